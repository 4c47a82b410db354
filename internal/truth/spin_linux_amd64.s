#include "textflag.h"

// func ticks() uint64
TEXT ·ticks(SB), NOSPLIT, $0-8
	RDTSC
	SHLQ $32, DX
	ORQ  DX, AX
	MOVQ AX, ret+0(FP)
	RET

// func spinTogether(arrived *uint32, n, dur, giveUp uint64) (start, end uint64)
TEXT ·spinTogether(SB), NOSPLIT, $0-48
	MOVQ arrived+0(FP), BX
	MOVL $1, CX
	LOCK
	XADDL CX, 0(BX)
	MOVQ n+8(FP), R9
	MOVQ giveUp+24(FP), R10
wait:
	MOVL 0(BX), CX
	CMPQ CX, R9
	JCC  ready
	RDTSC
	SHLQ $32, DX
	ORQ  DX, AX
	CMPQ AX, R10
	JCC  ready
	PAUSE
	JMP  wait
ready:
	RDTSC
	SHLQ $32, DX
	ORQ  DX, AX
	MOVQ AX, start+32(FP)
	MOVQ dur+16(FP), R8
	ADDQ AX, R8
spin:
	RDTSC
	SHLQ $32, DX
	ORQ  DX, AX
	CMPQ AX, R8
	JCS  spin
	MOVQ AX, end+40(FP)
	RET
