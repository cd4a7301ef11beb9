! Native arrays: assumed-shape, explicit-shape, allocatable and pointer dummies; strided sections
! (copy-in to an explicit-shape dummy); array expressions; reallocation on assignment; intent(out).
module arrays_model
  implicit none
contains
  subroutine scale_into(y, x, s)            ! explicit-shape, intent(out)
    real(8), intent(in) :: x(:), s
    real(8), intent(out) :: y(size(x))
    y = s * x
  end subroutine

  function weighted(v, w, n) result(r)       ! explicit-shape dummies (addresses)
    integer, intent(in) :: n
    real(8), intent(in) :: v(n), w(n)
    real(8) :: r
    r = sum(v * w)
  end function

  subroutine grow(a, x)                      ! allocatable dummy, reallocated
    real(8), allocatable, intent(inout) :: a(:)
    real(8), intent(in) :: x(:)
    a = [a, x * x]
  end subroutine

  function loss(x, w) result(r)
    real(8), intent(in) :: x(:), w(:)
    real(8) :: r
    real(8), allocatable :: y(:), acc(:)
    real(8), pointer :: p(:)
    integer :: n
    n = size(x)
    allocate(y(n))
    call scale_into(y, x, 2d0)
    r = weighted(y(1:n:2), w(1:n:2), (n + 1) / 2)   ! strided sections: copy-in temporaries
    allocate(acc(0))
    call grow(acc, x(2:))
    call grow(acc, sin(x))
    allocate(p(n))
    p = exp(x / 4) * w
    r = r + sum(acc * acc(size(acc):1:-1)) + sum(p**2)
    deallocate(p)
  end function
end module

program arrays
  use adcc_ad
  use fdcheck
  use arrays_model
  implicit none
  integer, parameter :: n = 7
  real(8) :: x(n), w(n), dx(n), dw(n), fd(n), fdw(n), xp(n), zero(n), t, tw
  integer :: i
  do i = 1, n
    x(i) = 0.3d0 * i - 1d0
    w(i) = 1d0 / i
  end do
  dx = 0
  dw = 0
  call autodiff(loss, enzyme_dup, x, dx, enzyme_dup, w, dw)
  do i = 1, n
    xp = x; xp(i) = x(i) + fd_step(x(i)); fd(i) = loss(xp, w)
    xp = x; xp(i) = x(i) - fd_step(x(i)); fd(i) = (fd(i) - loss(xp, w)) / (2 * fd_step(x(i)))
    xp = w; xp(i) = w(i) + fd_step(w(i)); fdw(i) = loss(x, xp)
    xp = w; xp(i) = w(i) - fd_step(w(i)); fdw(i) = (fdw(i) - loss(x, xp)) / (2 * fd_step(w(i)))
  end do
  call check_fd("reverse d/dx", dx, fd)
  call check_fd("reverse d/dw", dw, fdw)
  zero = 0
  do i = 1, n
    xp = 0; xp(i) = 1
    call fwddiff(loss, enzyme_dup, x, xp, enzyme_dup, w, zero, tangent=t)
    call check("forward d/dx", t, dx(i), 1d-9)
    xp = 0; xp(i) = 1
    call fwddiff(loss, enzyme_dup, x, zero, enzyme_dup, w, xp, tangent=tw)
    call check("forward d/dw", tw, dw(i), 1d-9)
  end do
  call finish("fortran/arrays")
end program
