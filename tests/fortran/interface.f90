! The adcc_ad interface: functions and subroutines; arguments received as descriptors,
! addresses (explicit-shape, assumed-size, scalars) and values (VALUE); enzyme_dup, enzyme_const,
! enzyme_out and unmarked arguments; output arrays seeded through their shadows; strided actual
! arguments (packed and copied back); internal procedures using host variables.
module interface_model
  implicit none
contains
  subroutine step(y, x, a, n)                 ! outputs in an argument; explicit-shape dummies
    integer, intent(in) :: n
    real(8), intent(out) :: y(n)
    real(8), intent(in) :: x(n), a
    if (a < 0) print *, "negative", x       ! I/O of arguments tells nothing about how they arrive
    y = a * x ** 2 + sin(x)
  end subroutine

  function by_value(s, x, k) result(r)        ! VALUE dummies
    real(8), value :: s
    real(8), intent(in) :: x(*)
    integer, value :: k
    real(8) :: r
    r = s ** 3 * x(k) + exp(s) * x(1)
  end function

  function scalars(a, b) result(r)            ! scalars by reference
    real(8), intent(in) :: a, b
    real(8) :: r
    if (b > 100) print *, a, b
    r = a * b ** 2 + log(a)
  end function
end module

program interface
  use adcc_ad
  use fdcheck
  use interface_model
  implicit none
  integer, parameter :: n = 5
  real(8) :: x(n), dx(n), y(n), dy(n), a, da, s, ds, b, db, t, w
  real(8) :: big(2 * n), dbig(2 * n)
  integer :: i

  x = [(0.3d0 * i, i = 1, n)]
  a = 1.7d0
  ! a subroutine: the output's shadow seeds the reverse pass (dy = 1 for sum(y))
  dy = 1
  dx = 0
  da = 0
  call autodiff(step, enzyme_dup, y, dy, enzyme_dup, x, dx, enzyme_dup, a, da, enzyme_const, n)
  call check("subroutine dx", dx, 2 * a * x + cos(x))
  call check("subroutine da", da, sum(x ** 2))
  call check("subroutine consumes dy", dy, [(0d0, i = 1, n)])
  ! forward: tangents of the outputs
  dx = 1
  dy = 0
  call fwddiff(step, enzyme_dup, y, dy, enzyme_dup, x, dx, enzyme_const, a, n)
  call check("subroutine forward", dy, 2 * a * x + cos(x))
  call check("subroutine primal", y, a * x ** 2 + sin(x))

  ! VALUE dummies: enzyme_dup accumulates the adjoint, enzyme_out overwrites it; the integer
  ! without a marker is enzyme_const
  s = 0.8d0
  ds = 10
  dx = 0
  call autodiff(by_value, enzyme_dup, s, ds, enzyme_dup, x, dx, 3)
  call check("value: ds accumulates", ds, 10 + 3 * s ** 2 * x(3) + exp(s) * x(1))
  call check("value: dx", dx, [exp(s), 0d0, s ** 3, 0d0, 0d0])
  ds = 10
  call autodiff(by_value, enzyme_out, s, ds, enzyme_const, x, enzyme_const, 3)
  call check("value: enzyme_out", ds, 3 * s ** 2 * x(3) + exp(s) * x(1))
  call fwddiff(by_value, enzyme_dup, s, 1d0, enzyme_const, x, enzyme_const, 3, tangent=t)
  call check("value: forward", t, 3 * s ** 2 * x(3) + exp(s) * x(1))

  ! scalars by reference: enzyme_out overwrites
  b = 0.6d0
  da = 5
  db = 7
  call autodiff(scalars, enzyme_out, a, da, enzyme_dup, b, db)
  call check("scalar: enzyme_out", da, b ** 2 + 1 / a)
  call check("scalar: enzyme_dup", db, 7 + 2 * a * b)

  ! a strided actual argument for an explicit-shape dummy: packed, differentiated, copied back
  big = [(0.1d0 * i, i = 1, 2 * n)]
  dbig = 0
  dy = 1
  call autodiff(step, enzyme_dup, y, dy, enzyme_dup, big(1:2 * n:2), dbig(1:2 * n:2), enzyme_const, a, n)
  call check("strided dx", dbig(1:2 * n:2), 2 * a * big(1:2 * n:2) + cos(big(1:2 * n:2)))
  call check("strided gaps", dbig(2:2 * n:2), [(0d0, i = 1, n)])

  ! an internal procedure: w comes from the host (no derivative)
  w = 2.5d0
  dx = 0
  call autodiff(host_weighted, enzyme_dup, x, dx)
  call check("internal procedure", dx, 2 * w * x)
  call finish("fortran/interface")
contains
  function host_weighted(v) result(r)
    real(8), intent(in) :: v(:)
    real(8) :: r
    r = w * sum(v * v)
  end function
end program
