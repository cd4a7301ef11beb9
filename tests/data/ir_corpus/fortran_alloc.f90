! Fortran: allocatable components, move_alloc, character strings, select case, do while, I/O.
program alloc_demo
  implicit none
  type :: grid
    real(8), allocatable :: u(:)
    character(len=:), allocatable :: label
  end type grid
  type(grid) :: g
  real(8), allocatable :: tmp(:)
  integer :: i, k
  real(8) :: s
  allocate(g%u(10))
  g%label = 'heat'
  g%u = [(sin(0.1d0 * i), i = 1, 10)]
  allocate(tmp(20))
  tmp(1:10) = g%u
  tmp(11:) = 0
  call move_alloc(tmp, g%u)
  s = 0
  k = 0
  do while (k < size(g%u))
    k = k + 1
    select case (mod(k, 3))
    case (0)
      s = s + g%u(k)
    case (1)
      s = s - g%u(k) ** 2
    case default
      s = s * 1.0001d0
    end select
  end do
  where (g%u > 0.5d0) g%u = 0.5d0
  write(*, '(A, F10.5, I4)') trim(g%label), s + sum(g%u), size(g%u)
end program alloc_demo
