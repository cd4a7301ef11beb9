/* Minimized from fuzz seed 502 (tests/fuzz/gen.py). Two `continue`s under integer conditions in a
   loop that stores into w: adcc produces invalid IR (compile error): "PHINode should have one entry
   for each predecessor of its parent basic block! %35 = phi i32 [ 0, %.lr.ph ], [ 1, %25 ]
   LLVM ERROR: Broken module found, compilation aborted!" (likely the branch-condition
   recomputation at if/else merges).
   Fixed; kept as a regression test. */
// wrap: f 6   (tests/test_fuzz_ad.py builds the program with gen.wrap)

__attribute__((noinline)) double f(double *x, double *w, int n) {
  double s = 0.0;
  double u = 0.5 * w[2];
  for (int j1 = 0; j1 < n; j1++) {
    if (j1 < 1) continue;
    if (j1 == 6) continue;
    w[(j1 + 1) % 8] = 0.5 * w[(j1 + 1) % 8] + 0.5 * tanh(0.1 * s);
  }
  return s + 0.3 * u;
}
