program runtime_calls
  use adcc_ad
  use fdcheck
  use kernels
  implicit none
  integer, parameter :: n = 6
  real(8) :: x(n), dx(n), fd(n), xp(n), e(n), t(n)
  integer :: i
  x = [(0.17d0 * i + 0.11d0, i = 1, n)]
  dx = 0
  call autodiff(reduce, enzyme_dup, x, dx)
  do i = 1, n
    xp = x; xp(i) = x(i) + fd_step(x(i)); fd(i) = reduce(xp)
    xp = x; xp(i) = x(i) - fd_step(x(i)); fd(i) = (fd(i) - reduce(xp)) / (2 * fd_step(x(i)))
    e = 0; e(i) = 1
    call fwddiff(reduce, enzyme_dup, x, e, tangent=t(i))
  end do
  call check_fd("reductions: reverse", dx, fd)
  call check("reductions: forward", t, dx, 1d-9)
  dx = 0
  call autodiff(transform, enzyme_dup, x, dx)
  do i = 1, n
    xp = x; xp(i) = x(i) + fd_step(x(i)); fd(i) = transform(xp)
    xp = x; xp(i) = x(i) - fd_step(x(i)); fd(i) = (fd(i) - transform(xp)) / (2 * fd_step(x(i)))
    e = 0; e(i) = 1
    call fwddiff(transform, enzyme_dup, x, e, tangent=t(i))
  end do
  call check_fd("transformations: reverse", dx, fd)
  call check("transformations: forward", t, dx, 1d-9)
  call finish("fortran/runtime_calls")
end program
