#include "textflag.h"

// func ticks() uint64
TEXT ·ticks(SB), NOSPLIT, $0-8
	RDTSC
	SHLQ $32, DX
	ORQ  DX, AX
	MOVQ AX, ret+0(FP)
	RET

// func spinUntil(deadline uint64) uint64
TEXT ·spinUntil(SB), NOSPLIT, $0-16
	MOVQ deadline+0(FP), R8
loop:
	RDTSC
	SHLQ $32, DX
	ORQ  DX, AX
	CMPQ AX, R8
	JCS  loop
	MOVQ AX, ret+8(FP)
	RET
