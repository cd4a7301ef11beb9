/* _Float16, __bf16, __float128 and their constants (0xH, 0xR, 0xL). */
// ir-corpus: -O2 -march=sapphirerapids
_Float16 h_add(_Float16 a, _Float16 b) { return a + b * (_Float16)1.5f; }
_Float16 h_poly(_Float16 x) { _Float16 s = 0; for (int i = 0; i < 8; i++) s = s * x + (_Float16)0.1f; return s; }
__bf16 b_mul(__bf16 a, __bf16 b) { return a * b; }
float b_to_f(__bf16 a) { return (float)a + 0.3f; }
__float128 q_mul(__float128 a, __float128 b) { return a * b + 0.1Q; }
__float128 q_sum(const __float128 *v, int n) { __float128 s = 0; for (int i = 0; i < n; i++) s += v[i] * 1.25Q; return s; }
double q_narrow(__float128 a) { return (double)a; }
__int128 i128(__int128 a, unsigned __int128 b) { return a * (__int128)b + ((__int128)1 << 100); }
_Float16 h_vec(_Float16 *v) { _Float16 s = 0; for (int i = 0; i < 64; i++) s += v[i] * v[i]; return s; }
__bf16 bf_table[2] = {1.5f, -0.25f};
__bf16 bf_pick(int i) { return i ? bf_table[1] : (__bf16)3.0f; }
