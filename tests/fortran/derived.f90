! Derived types with array components: fixed and allocatable components, arrays of derived type,
! intent(out) dummies (their allocatable components are deallocated on entry), whole-object
! assignment (deep copy), default initialization, nested types, module variables of derived type.
module derived_model
  implicit none
  type :: layer
    real(8) :: bias = 0.5d0
    real(8) :: w(3)
    real(8), allocatable :: v(:)
  end type
  type :: net
    type(layer) :: first
    type(layer), allocatable :: rest(:)
    integer :: count = 0
  end type
  type(layer) :: saved        ! a module variable
contains
  subroutine build(n, x, out)
    type(net), intent(out) :: n
    real(8), intent(in) :: x(:)
    real(8), intent(out) :: out
    integer :: k
    n%first%w = x(1:3)
    n%first%v = x * x
    allocate(n%rest(2))
    do k = 1, 2
      n%rest(k)%w = x(k:k + 2) * k
      n%rest(k)%v = [x(k), x(k + 1) ** 2]
    end do
    n%count = 3
    out = n%first%bias
  end subroutine

  function loss(x) result(r)
    real(8), intent(in) :: x(:)
    real(8) :: r, b
    type(net) :: n
    type(layer) :: copy
    type(layer), allocatable :: many(:)
    call build(n, x, b)
    copy = n%rest(2)                  ! deep copy of a component
    copy%v = copy%v * 3
    many = [n%first, copy]            ! array of derived type
    saved = many(2)
    r = b * sum(n%first%w) + sum(n%first%v ** 2) + sum(copy%v * n%rest(2)%v) + sum(many(1)%v) &
        + sum(saved%w * saved%v(1)) + n%rest(1)%bias * sum(n%rest(1)%w ** 2)
  end function
end module

program derived
  use adcc_ad
  use fdcheck
  use derived_model
  implicit none
  integer, parameter :: n = 5
  real(8) :: x(n), dx(n), fd(n), e(n), t(n)
  integer :: i
  do i = 1, n
    x(i) = 0.4d0 + 0.21d0 * i
  end do
  dx = 0
  call autodiff(loss, enzyme_dup, x, dx)
  call fd_gradient(loss, x, fd)
  call check_fd("reverse", dx, fd)
  do i = 1, n
    e = 0; e(i) = 1
    call fwddiff(loss, enzyme_dup, x, e, tangent=t(i))
  end do
  call check("forward", t, dx, 1d-9)
  call finish("fortran/derived")
end program
