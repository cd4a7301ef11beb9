; Type-analysis cases. Functions from clang-22 -O2 -fno-inline of tests/data/ir/types.c, plus hand-written ones.
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128"
target triple = "x86_64-pc-linux-gnu"

; Function Attrs: mustprogress nofree noinline norecurse nosync nounwind willreturn memory(argmem: readwrite) uwtable
define dso_local void @copy_double(ptr noundef writeonly captures(none) initializes((0, 8)) %0, ptr noundef readonly captures(none) %1) local_unnamed_addr {
  %3 = load i64, ptr %1, align 8
  store i64 %3, ptr %0, align 8
  ret void
}

; Function Attrs: mustprogress nocallback nofree nounwind willreturn memory(argmem: readwrite)
declare void @llvm.memcpy.p0.p0.i64(ptr noalias writeonly captures(none), ptr noalias readonly captures(none), i64, i1 immarg) #1

; Function Attrs: mustprogress nofree noinline norecurse nosync nounwind willreturn memory(argmem: readwrite) uwtable
define dso_local void @copy_rec(ptr noundef writeonly captures(none) initializes((0, 24)) %0, ptr noundef readonly captures(none) %1) local_unnamed_addr {
  tail call void @llvm.memcpy.p0.p0.i64(ptr noundef nonnull align 8 dereferenceable(24) %0, ptr noundef nonnull align 8 dereferenceable(24) %1, i64 24, i1 false), !tbaa.struct !9
  ret void
}

; Function Attrs: mustprogress nofree noinline norecurse nosync nounwind willreturn memory(argmem: read) uwtable
define dso_local double @caller(ptr noundef readonly captures(none) %0, i32 noundef %1) local_unnamed_addr {
  %3 = tail call fastcc double @helper(ptr noundef %0, i32 noundef %1)
  %4 = add nsw i32 %1, 1
  %5 = tail call fastcc double @helper(ptr noundef %0, i32 noundef %4)
  %6 = fadd double %3, %5
  ret double %6
}

; Function Attrs: mustprogress nofree noinline norecurse nosync nounwind willreturn memory(argmem: read) uwtable
define internal fastcc double @helper(ptr noundef readonly captures(none) %0, i32 noundef %1) unnamed_addr {
  %3 = sext i32 %1 to i64
  %4 = getelementptr inbounds double, ptr %0, i64 %3
  %5 = load double, ptr %4, align 8, !tbaa !10
  %6 = fmul double %5, 2.000000e+00
  ret double %6
}

; Function Attrs: mustprogress nofree noinline norecurse nosync nounwind willreturn memory(read, inaccessiblemem: none, target_mem0: none, target_mem1: none) uwtable
define dso_local double @pick(ptr noundef readonly captures(none) %0, ptr noundef readonly captures(none) %1, i32 noundef %2) local_unnamed_addr {
  %4 = icmp eq i32 %2, 0
  %5 = select i1 %4, ptr %1, ptr %0
  %6 = load double, ptr %5, align 8, !tbaa !10
  ret double %6
}



!5 = !{!6, !6, i64 0}
!6 = !{!"int", !7, i64 0}
!7 = !{!"omnipotent char", !8, i64 0}
!8 = !{!"Simple C/C++ TBAA"}
!9 = !{i64 0, i64 8, !10, i64 8, i64 4, !5, i64 16, i64 8, !12}
!10 = !{!11, !11, i64 0}
!11 = !{!"double", !7, i64 0}
!12 = !{!13, !13, i64 0}
!13 = !{!"p1 double", !14, i64 0}
!14 = !{!"any pointer", !7, i64 0}

; a double moved as i64: the load double of the destination makes %bits a double
define double @i64_copy(ptr %dst, ptr %src) {
  %bits = load i64, ptr %src, align 8
  store i64 %bits, ptr %dst, align 8
  %d = load double, ptr %dst, align 8
  ret double %d
}

; no information at all: must stay Unknown
define void @opaque_copy(ptr %dst, ptr %src) {
  %bits = load i64, ptr %src, align 8
  store i64 %bits, ptr %dst, align 8
  ret void
}

; TBAA is the only source
define void @tbaa_only(ptr %dst, ptr %src, ptr %pp) {
  %bits = load i64, ptr %src, align 8, !tbaa !10
  store i64 %bits, ptr %dst, align 8
  %q = load i64, ptr %pp, align 8, !tbaa !12
  %r = load i64, ptr %q, align 8, !tbaa !5
  ret void
}

; bitcast and a phi
define double @cast_phi(i64 %a, i64 %b, i1 %c) {
entry:
  br i1 %c, label %l, label %r
l:
  br label %j
r:
  br label %j
j:
  %m = phi i64 [ %a, %l ], [ %b, %r ]
  %d = bitcast i64 %m to double
  ret double %d
}

; struct {double, int, double*} built in memory then copied with a plain memcpy
define void @struct_memcpy(ptr %dst, ptr %src, ptr %w) {
  store double 1.0, ptr %src, align 8
  %n = getelementptr inbounds i8, ptr %src, i64 8
  store i32 3, ptr %n, align 8
  %pw = getelementptr inbounds i8, ptr %src, i64 16
  store ptr %w, ptr %pw, align 8
  store double 2.0, ptr %w, align 8
  call void @llvm.memcpy.p0.p0.i64(ptr %dst, ptr %src, i64 24, i1 false)
  %back = getelementptr inbounds i8, ptr %dst, i64 16
  %wp = load ptr, ptr %back, align 8
  %wv = load i64, ptr %wp, align 8
  %pn = getelementptr inbounds i8, ptr %dst, i64 8
  %nv = load i32, ptr %pn, align 8
  %nx = sext i32 %nv to i64
  ret void
}

; memset to zero gives Anything, refined by a later double store
define void @zeroed(ptr %p) {
  call void @llvm.memset.p0.i64(ptr %p, i8 0, i64 16, i1 false)
  %h = getelementptr inbounds i8, ptr %p, i64 8
  store double 1.0, ptr %h, align 8
  ret void
}

; callee that learns its argument types only from the caller
define void @callee_copy(ptr %dst, ptr %src) {
  %bits = load i64, ptr %src, align 8
  store i64 %bits, ptr %dst, align 8
  ret void
}

define double @caller_copy(ptr %out) {
  %tmp = alloca double, align 8
  store double 3.0, ptr %tmp, align 8
  call void @callee_copy(ptr %out, ptr %tmp)
  %r = load double, ptr %out, align 8
  ret double %r
}

; strided walk over doubles
define double @walk(ptr %p, ptr %end) {
entry:
  br label %loop
loop:
  %cur = phi ptr [ %p, %entry ], [ %next, %loop ]
  %acc = phi double [ 0.0, %entry ], [ %s, %loop ]
  %v = load double, ptr %cur, align 8
  %s = fadd double %acc, %v
  %next = getelementptr inbounds i8, ptr %cur, i64 8
  %done = icmp eq ptr %next, %end
  br i1 %done, label %exit, label %loop
exit:
  ret double %s
}

declare void @llvm.memset.p0.i64(ptr, i8, i64, i1)
