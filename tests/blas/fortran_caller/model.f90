! A Fortran function calling BLAS as Fortran programs do (dgemv, ddot: arguments by reference,
! character arguments with hidden lengths, an automatic array y), differentiated from C.
function f(n, A, x) result(r) bind(C, name="f")
  use iso_c_binding
  implicit none
  integer(c_int), value :: n
  real(c_double) :: A(n, n), x(n)
  real(c_double) :: r, y(n)
  real(c_double), external :: ddot
  call dgemv('T', n, n, 1.5d0, A, n, x, 1, 0.0d0, y, 1)
  call dscal(n, x(1), y, 1)
  r = ddot(n, y, 1, y, 1)
end function
