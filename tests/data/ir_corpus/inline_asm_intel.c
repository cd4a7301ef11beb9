/* MS-style asm blocks (inteldialect) with -fasm-blocks. */
// ir-corpus-flags: -fasm-blocks
int ms_add(int a, int b) {
  int r;
  __asm {
    mov eax, a
    add eax, b
    mov r, eax
  }
  return r;
}
void ms_cpuid(int out[4], int leaf) {
  int a, b, c, d;
  __asm {
    mov eax, leaf
    xor ecx, ecx
    cpuid
    mov a, eax
    mov b, ebx
    mov c, ecx
    mov d, edx
  }
  out[0] = a; out[1] = b; out[2] = c; out[3] = d;
}
