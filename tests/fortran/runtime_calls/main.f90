program runtime_calls
  use adcc_ad
  use fdcheck
  use kernels
  implicit none
  integer, parameter :: n = 6
  real(8) :: x(n), dx(n), fd(n), e(n), t(n)
  integer :: i
  x = [(0.17d0 * i + 0.11d0, i = 1, n)]
  dx = 0
  call autodiff(reduce, enzyme_dup, x, dx)
  call fd_gradient(reduce, x, fd)
  do i = 1, n
    e = 0; e(i) = 1
    call fwddiff(reduce, enzyme_dup, x, e, tangent=t(i))
  end do
  call check_fd("reductions: reverse", dx, fd)
  call check("reductions: forward", t, dx, 1d-9)
  dx = 0
  call autodiff(transform, enzyme_dup, x, dx)
  call fd_gradient(transform, x, fd)
  do i = 1, n
    e = 0; e(i) = 1
    call fwddiff(transform, enzyme_dup, x, e, tangent=t(i))
  end do
  call check_fd("transformations: reverse", dx, fd)
  call check("transformations: forward", t, dx, 1d-9)
  call finish("fortran/runtime_calls")
end program
