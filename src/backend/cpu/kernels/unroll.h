// AS_UNROLL before a loop over a small compile-time count (accumulator arrays, the rows of a
// micro-tile) unrolls it completely, so the array lives in registers. GCC at -O2 does not do
// this by itself: it keeps such arrays in memory and the kernels then run at a fraction of
// their speed.
#pragma once

#define AS_UNROLL _Pragma("GCC unroll 16")
