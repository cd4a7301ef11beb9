! adcc_ad: derivatives of Fortran procedures, as Enzyme's C API computes them, with no
! interfaces to write. Compiled by adflang on first use (found without flags); plain flang-new-22
! finds it with -I "$(adcc-tool fortran-module-dir)". See README.md, "Fortran".
!
!   call autodiff(f, enzyme_dup, x, dx, enzyme_const, n)   ! reverse mode: dx = dx + df/dx
!   call fwddiff(f, enzyme_dup, x, tx, tangent=df)          ! forward mode: df = (df/dx) tx
!
! f is any function or subroutine (module, external or internal procedure); its arguments are
! given in order, each after its activity: enzyme_dup (followed by the argument and its shadow:
! the adjoint accumulator in reverse mode, the tangent in forward mode), enzyme_const (no
! derivative), enzyme_out (reverse mode, real scalars: followed by the argument and a variable
! that receives its adjoint). Arguments without an activity are enzyme_const. adcc passes each as
! f expects it (array descriptor, address, or value) and checks kinds when it differentiates.
! Only adflang differentiates: a program compiled by plain flang does not link.
module adcc_ad
  implicit none
  private
  public :: autodiff, fwddiff

  integer, public, bind(C, name="enzyme_dup") :: enzyme_dup
  integer, public, bind(C, name="enzyme_dupnoneed") :: enzyme_dupnoneed
  integer, public, bind(C, name="enzyme_const") :: enzyme_const
  integer, public, bind(C, name="enzyme_out") :: enzyme_out

  interface autodiff
    ! reverse mode
    subroutine adcc_autodiff(f, a01, a02, a03, a04, a05, a06, a07, a08, a09, a10, a11, a12, a13, &
        a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31, &
        a32, a33, a34, a35, a36, a37, a38, a39, a40) &
        bind(C, name="__enzyme_fortran_autodiff")
      external :: f
      type(*), dimension(..), optional :: a01, a02, a03, a04, a05, a06, a07, a08, a09, &
        a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, &
        a28, a29, a30, a31, a32, a33, a34, a35, a36, a37, a38, a39, a40
    end subroutine
  end interface

  interface fwddiff
    ! forward mode; `tangent` receives the tangent of a function's result
    subroutine adcc_fwddiff(f, a01, a02, a03, a04, a05, a06, a07, a08, a09, a10, a11, a12, a13, &
        a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, a28, a29, a30, a31, &
        a32, a33, a34, a35, a36, a37, a38, a39, a40, tangent) &
        bind(C, name="__enzyme_fortran_fwddiff")
      external :: f
      type(*), dimension(..), optional :: a01, a02, a03, a04, a05, a06, a07, a08, a09, &
        a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24, a25, a26, a27, &
        a28, a29, a30, a31, a32, a33, a34, a35, a36, a37, a38, a39, a40
      type(*), dimension(..), optional :: tangent
    end subroutine
  end interface
end module adcc_ad
