! Runtime calls without derivatives inside the differentiated procedure: RANDOM_SEED and
! RANDOM_NUMBER (the random values are constants of the derivative), MINLOC and FINDLOC (the
! locations are integers), in both modes.
module inactive_calls_model
  implicit none
contains
  subroutine seeded_noise(noise)
    real(8), intent(out) :: noise(:)
    integer :: seed(64), n
    call random_seed(size=n)
    seed = 12345
    call random_seed(put=seed(1:n))
    call random_number(noise)
  end subroutine

  function loss(x) result(r)
    real(8), intent(in) :: x(:)
    real(8) :: r
    real(8) :: noise(size(x))
    integer :: k(1), j(1)
    call seeded_noise(noise)
    k = minloc(x)
    j = findloc(x > 2.5d0, .true.)
    r = sum(x * noise) + x(k(1)) ** 2 + 3 * x(j(1))
  end function
end module

program inactive_calls
  use adcc_ad
  use fdcheck
  use inactive_calls_model
  implicit none
  real(8) :: x(5), dx(5), e(5), t(5), g(5), noise(5), want(5)
  integer :: i
  x = [2d0, 0.5d0, 3d0, -1d0, 4d0]
  call seeded_noise(noise)
  want = noise
  want(4) = want(4) + 2 * x(4)     ! the minimum
  want(3) = want(3) + 3            ! the first element above 2.5
  dx = 0
  call autodiff(loss, enzyme_dup, x, dx)
  call fd_gradient(loss, x, g)
  call check_fd("reverse", dx, g)
  call check("reverse", dx, want)
  do i = 1, 5
    e = 0; e(i) = 1
    call fwddiff(loss, enzyme_dup, x, e, tangent=t(i))
  end do
  call check("forward", t, want)
  call finish("fortran/inactive_calls")
end program
