! Scalars of derived type with allocatable components as arguments of the differentiated
! procedure: received by address (its first component's descriptor sits where a descriptor's
! fields would), or as a descriptor (a CLASS dummy); constant, with a section of its component
! passed on to another procedure, or duplicated, with the component adjoints in the shadow.
module derived_args_model
  implicit none
  type :: table
    real(8), allocatable :: c(:)
    real(8) :: s = 2
  end type
contains
  recursive function dotw(a, b) result(r)
    real(8), intent(in) :: a(:), b(:)
    real(8) :: r
    r = 0
    if (size(a) > 0) r = a(1) * b(1) + dotw(a(2:), b(2:))
  end function

  function loss(w, t) result(r)
    real(8), intent(in) :: w(:)
    type(table), intent(in) :: t
    real(8) :: r
    r = dotw(w(1:3) ** 2, t%c(2:4)) * t%s + sum(t%c(1:4:3) * w(4:5))
  end function

  function lossc(w, t) result(r)
    real(8), intent(in) :: w(:)
    class(table), intent(in) :: t
    real(8) :: r
    r = loss(w, t)
  end function
end module

program derived_args
  use adcc_ad
  use fdcheck
  use derived_args_model
  implicit none
  real(8) :: w(5), dw(5), e(5), t(5), g(5), want(5), dc(4), ds
  type(table) :: tb, dtb, tt
  integer :: i, k
  w = [0.5d0, -1d0, 1.5d0, 2d0, -0.25d0]
  tb%c = [7d0, 8d0, 9d0, 10d0]
  tb%s = 3
  want = [2 * w(1:3) * tb%c(2:4) * tb%s, tb%c(1), tb%c(4)]
  dc = [w(4), w(1:3) ** 2 * tb%s]
  dc(4) = dc(4) + w(5)
  ds = sum(w(1:3) ** 2 * tb%c(2:4))
  call fd_gradient(f, w, g)
  do k = 1, 2
    dw = 0
    if (k == 1) call autodiff(loss, enzyme_dup, w, dw, enzyme_const, tb)
    if (k == 2) call autodiff(lossc, enzyme_dup, w, dw, enzyme_const, tb)
    call check_fd("reverse, constant table", dw, g)
    call check("reverse, constant table", dw, want)
    do i = 1, 5
      e = 0; e(i) = 1
      if (k == 1) call fwddiff(loss, enzyme_dup, w, e, enzyme_const, tb, tangent=t(i))
      if (k == 2) call fwddiff(lossc, enzyme_dup, w, e, enzyme_const, tb, tangent=t(i))
    end do
    call check("forward, constant table", t, want)
    ! the table duplicated: its shadow receives the adjoints of its components
    dw = 0
    dtb%c = [0d0, 0d0, 0d0, 0d0]
    dtb%s = 0
    if (k == 1) call autodiff(loss, enzyme_dup, w, dw, enzyme_dup, tb, dtb)
    if (k == 2) call autodiff(lossc, enzyme_dup, w, dw, enzyme_dup, tb, dtb)
    call check("reverse, w", dw, want)
    call check("reverse, table%c", dtb%c, dc)
    call check("reverse, table%s", dtb%s, ds)
    e = 0
    tt%c = [1d0, -2d0, 0.5d0, 3d0]
    tt%s = 0.25d0
    if (k == 1) call fwddiff(loss, enzyme_dup, w, e, enzyme_dup, tb, tt, tangent=t(1))
    if (k == 2) call fwddiff(lossc, enzyme_dup, w, e, enzyme_dup, tb, tt, tangent=t(1))
    call check("forward, table", t(1), sum(dc * tt%c) + ds * tt%s)
  end do
  call check("the table is left as it was", tb%c, [7d0, 8d0, 9d0, 10d0])
  call finish("fortran/derived_args")
contains
  function f(v) result(r)
    real(8), intent(in) :: v(:)
    real(8) :: r
    r = loss(v, tb)
  end function
end program
