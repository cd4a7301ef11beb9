! An OpenMP region in Fortran (flang -fopenmp), differentiated at link time from the C caller
! (main.c): a parallel do with a sum reduction, and a parallel do over an array section.
subroutine energy(u, w, n, e) bind(c, name="energy")
  use iso_c_binding
  integer(c_int), value :: n
  real(c_double), intent(in) :: u(n)
  real(c_double), intent(inout) :: w(n)
  real(c_double), intent(out) :: e
  integer :: i
  !$omp parallel do
  do i = 2, n - 1
    w(i) = u(i - 1) * u(i + 1) + w(i)
  end do
  !$omp end parallel do
  e = 0
  !$omp parallel do reduction(+:e)
  do i = 1, n
    e = e + w(i) * w(i) + sin(u(i))
  end do
  !$omp end parallel do
end subroutine
