/* Enzyme's activity markers as the adcc_ad Fortran module declares them (bind(C) module variables):
 * defined here, in an archive member of their own, for programs whose references survive (at -O0 the
 * descriptors built for a differentiated call stay). A program that defines them itself never pulls
 * this member in. */
int enzyme_dup, enzyme_dupnoneed, enzyme_const, enzyme_out;
