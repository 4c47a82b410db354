#include "textflag.h"

// func ticks() uint64
TEXT ·ticks(SB), NOSPLIT, $0-8
	MRS  CNTVCT_EL0, R0
	MOVD R0, ret+0(FP)
	RET

// func spinTogether(arrived *uint32, n, dur, giveUp uint64) (start, end uint64)
TEXT ·spinTogether(SB), NOSPLIT, $0-48
	MOVD arrived+0(FP), R2
add:
	LDAXRW (R2), R4
	ADDW   $1, R4, R5
	STLXRW R5, (R2), R6
	CBNZ   R6, add
	MOVD   n+8(FP), R7
	MOVD   giveUp+24(FP), R8
wait:
	LDARW (R2), R4
	CMP   R7, R4
	BHS   ready
	MRS   CNTVCT_EL0, R0
	CMP   R8, R0
	BHS   ready
	YIELD
	B     wait
ready:
	MRS  CNTVCT_EL0, R0
	MOVD R0, start+32(FP)
	MOVD dur+16(FP), R1
	ADD  R0, R1, R1
spin:
	MRS  CNTVCT_EL0, R0
	CMP  R1, R0
	BLO  spin
	MOVD R0, end+40(FP)
	RET
