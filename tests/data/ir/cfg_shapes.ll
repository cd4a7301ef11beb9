; Hand-written control-flow shapes for tests/test_analysis_cfg.py.
target triple = "x86_64-pc-linux-gnu"

; diamond with an unreachable block
define i32 @diamond(i1 %c) {
entry:
  br i1 %c, label %left, label %right
left:
  br label %join
right:
  br label %join
dead:
  br label %join
join:
  %r = phi i32 [ 1, %left ], [ 2, %right ], [ 3, %dead ]
  ret i32 %r
}

; one loop with two latches (continue) and two exits, header-tested
define i64 @two_latches(i64 %n, i1 %c) {
entry:
  br label %header
header:
  %i = phi i64 [ 0, %entry ], [ %i.next, %a ], [ %i.next, %b ]
  %more = icmp slt i64 %i, %n
  br i1 %more, label %body, label %exit
body:
  %i.next = add nsw i64 %i, 1
  br i1 %c, label %a, label %b
a:
  br label %header
b:
  %stop = icmp eq i64 %i, 7
  br i1 %stop, label %early, label %header
early:
  ret i64 -1
exit:
  ret i64 %i
}

; header-tested loop with a single latch: trip count n + 1 header executions
define i64 @header_test(i64 %n) {
entry:
  br label %header
header:
  %i = phi i64 [ 0, %entry ], [ %i.next, %latch ]
  %more = icmp slt i64 %i, %n
  br i1 %more, label %latch, label %exit
latch:
  %i.next = add nuw nsw i64 %i, 1
  br label %header
exit:
  ret i64 %i
}

; rotated loop testing `n > i.next` (operands swapped), iv starting at 1 is not canonical
define void @rotated(i64 %n, i64 %m) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %j = phi i64 [ 1, %entry ], [ %j.next, %loop ]
  %i.next = add i64 %i, 1
  %j.next = add i64 %j, 1
  %go = icmp sgt i64 %n, %i.next
  br i1 %go, label %loop, label %done
done:
  ret void
}

; infinite loop: not post-dominated by the exit
define void @forever(i1 %c) {
entry:
  br i1 %c, label %spin, label %out
spin:
  br label %spin
out:
  ret void
}
