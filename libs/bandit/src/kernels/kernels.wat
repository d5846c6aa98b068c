;; Dense kernels of the propensity path in WebAssembly SIMD (f64x2). Each mirrors a TypeScript loop of linalg.ts /
;; nig.ts that sums with two accumulators (even and odd indices, an odd tail added to the even one, then even + odd):
;; the two lanes of a v128 are exactly those two accumulators, and f64x2.mul / f64x2.add round like the scalar
;; operations, so the results are bit-identical to the TypeScript (tested). Arguments are byte offsets of row-major
;; f64 arrays in the exported memory. Source of kernels-wasm.ts (tools/bandit/build-kernels.js).
(module
  (memory (export "memory") 1)

  ;; Y[a] = L⁻¹ B[a] for each of `rows` right-hand sides (rows × d); L lower-triangular d × d. Four rows per pass,
  ;; then two, then one.
  (func (export "forward_solve_rows") (param $L i32) (param $B i32) (param $Y i32) (param $rows i32) (param $d i32)
    (local $rowBytes i32) (local $a i32) (local $i i32) (local $k i32) (local $li i32) (local $off i32)
    (local $ya i32) (local $yb i32) (local $yc i32) (local $yd i32) (local $ba i32) (local $bb i32) (local $bc i32) (local $bd i32)
    (local $accA v128) (local $accB v128) (local $accC v128) (local $accD v128) (local $l v128)
    (local $sA f64) (local $sB f64) (local $sC f64) (local $sD f64) (local $lik f64) (local $lii f64)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 3)))
    (local.set $a (i32.const 0))
    ;; Four rows per pass first: each pair of L entries loaded once serves four right-hand sides, and the four
    ;; accumulators are independent add chains. Every row keeps its own two-lane order, so the results are the same
    ;; bits as the two-row pass below (and the TypeScript loops).
    (block $quadsDone
      (loop $quads
        (br_if $quadsDone (i32.ge_s (i32.add (local.get $a) (i32.const 3)) (local.get $rows)))
        (local.set $ya (i32.add (local.get $Y) (i32.mul (local.get $a) (local.get $rowBytes))))
        (local.set $yb (i32.add (local.get $ya) (local.get $rowBytes)))
        (local.set $yc (i32.add (local.get $yb) (local.get $rowBytes)))
        (local.set $yd (i32.add (local.get $yc) (local.get $rowBytes)))
        (local.set $ba (i32.add (local.get $B) (i32.mul (local.get $a) (local.get $rowBytes))))
        (local.set $bb (i32.add (local.get $ba) (local.get $rowBytes)))
        (local.set $bc (i32.add (local.get $bb) (local.get $rowBytes)))
        (local.set $bd (i32.add (local.get $bc) (local.get $rowBytes)))
        (local.set $i (i32.const 0))
        (block $qRowsDone
          (loop $qRow
            (br_if $qRowsDone (i32.ge_s (local.get $i) (local.get $d)))
            (local.set $li (i32.add (local.get $L) (i32.mul (local.get $i) (local.get $rowBytes))))
            (local.set $accA (f64x2.splat (f64.const 0)))
            (local.set $accB (f64x2.splat (f64.const 0)))
            (local.set $accC (f64x2.splat (f64.const 0)))
            (local.set $accD (f64x2.splat (f64.const 0)))
            (local.set $k (i32.const 0))
            (block $qDotDone
              (loop $qDot
                (br_if $qDotDone (i32.ge_s (i32.add (local.get $k) (i32.const 1)) (local.get $i)))
                (local.set $off (i32.shl (local.get $k) (i32.const 3)))
                (local.set $l (v128.load (i32.add (local.get $li) (local.get $off))))
                (local.set $accA (f64x2.add (local.get $accA)
                  (f64x2.mul (local.get $l) (v128.load (i32.add (local.get $ya) (local.get $off))))))
                (local.set $accB (f64x2.add (local.get $accB)
                  (f64x2.mul (local.get $l) (v128.load (i32.add (local.get $yb) (local.get $off))))))
                (local.set $accC (f64x2.add (local.get $accC)
                  (f64x2.mul (local.get $l) (v128.load (i32.add (local.get $yc) (local.get $off))))))
                (local.set $accD (f64x2.add (local.get $accD)
                  (f64x2.mul (local.get $l) (v128.load (i32.add (local.get $yd) (local.get $off))))))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $qDot)))
            (local.set $sA (f64x2.extract_lane 0 (local.get $accA)))
            (local.set $sB (f64x2.extract_lane 0 (local.get $accB)))
            (local.set $sC (f64x2.extract_lane 0 (local.get $accC)))
            (local.set $sD (f64x2.extract_lane 0 (local.get $accD)))
            (if (i32.lt_s (local.get $k) (local.get $i))
              (then
                (local.set $off (i32.shl (local.get $k) (i32.const 3)))
                (local.set $lik (f64.load (i32.add (local.get $li) (local.get $off))))
                (local.set $sA (f64.add (local.get $sA)
                  (f64.mul (local.get $lik) (f64.load (i32.add (local.get $ya) (local.get $off))))))
                (local.set $sB (f64.add (local.get $sB)
                  (f64.mul (local.get $lik) (f64.load (i32.add (local.get $yb) (local.get $off))))))
                (local.set $sC (f64.add (local.get $sC)
                  (f64.mul (local.get $lik) (f64.load (i32.add (local.get $yc) (local.get $off))))))
                (local.set $sD (f64.add (local.get $sD)
                  (f64.mul (local.get $lik) (f64.load (i32.add (local.get $yd) (local.get $off))))))))
            (local.set $off (i32.shl (local.get $i) (i32.const 3)))
            (local.set $lii (f64.load (i32.add (local.get $li) (local.get $off))))
            (local.set $sA (f64.add (local.get $sA) (f64x2.extract_lane 1 (local.get $accA))))
            (f64.store (i32.add (local.get $ya) (local.get $off))
              (f64.div (f64.sub (f64.load (i32.add (local.get $ba) (local.get $off))) (local.get $sA)) (local.get $lii)))
            (local.set $sB (f64.add (local.get $sB) (f64x2.extract_lane 1 (local.get $accB))))
            (f64.store (i32.add (local.get $yb) (local.get $off))
              (f64.div (f64.sub (f64.load (i32.add (local.get $bb) (local.get $off))) (local.get $sB)) (local.get $lii)))
            (local.set $sC (f64.add (local.get $sC) (f64x2.extract_lane 1 (local.get $accC))))
            (f64.store (i32.add (local.get $yc) (local.get $off))
              (f64.div (f64.sub (f64.load (i32.add (local.get $bc) (local.get $off))) (local.get $sC)) (local.get $lii)))
            (local.set $sD (f64.add (local.get $sD) (f64x2.extract_lane 1 (local.get $accD))))
            (f64.store (i32.add (local.get $yd) (local.get $off))
              (f64.div (f64.sub (f64.load (i32.add (local.get $bd) (local.get $off))) (local.get $sD)) (local.get $lii)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $qRow)))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (br $quads)))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.ge_s (i32.add (local.get $a) (i32.const 1)) (local.get $rows)))
        (local.set $ya (i32.add (local.get $Y) (i32.mul (local.get $a) (local.get $rowBytes))))
        (local.set $yb (i32.add (local.get $ya) (local.get $rowBytes)))
        (local.set $ba (i32.add (local.get $B) (i32.mul (local.get $a) (local.get $rowBytes))))
        (local.set $bb (i32.add (local.get $ba) (local.get $rowBytes)))
        (local.set $i (i32.const 0))
        (block $rowsDone
          (loop $row
            (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $d)))
            (local.set $li (i32.add (local.get $L) (i32.mul (local.get $i) (local.get $rowBytes))))
            (local.set $accA (f64x2.splat (f64.const 0)))
            (local.set $accB (f64x2.splat (f64.const 0)))
            (local.set $k (i32.const 0))
            (block $dotDone
              (loop $dot
                (br_if $dotDone (i32.ge_s (i32.add (local.get $k) (i32.const 1)) (local.get $i)))
                (local.set $l (v128.load (i32.add (local.get $li) (i32.shl (local.get $k) (i32.const 3)))))
                (local.set $accA (f64x2.add (local.get $accA)
                  (f64x2.mul (local.get $l) (v128.load (i32.add (local.get $ya) (i32.shl (local.get $k) (i32.const 3)))))))
                (local.set $accB (f64x2.add (local.get $accB)
                  (f64x2.mul (local.get $l) (v128.load (i32.add (local.get $yb) (i32.shl (local.get $k) (i32.const 3)))))))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $dot)))
            (local.set $sA (f64x2.extract_lane 0 (local.get $accA)))
            (local.set $sB (f64x2.extract_lane 0 (local.get $accB)))
            (if (i32.lt_s (local.get $k) (local.get $i))
              (then
                (local.set $lik (f64.load (i32.add (local.get $li) (i32.shl (local.get $k) (i32.const 3)))))
                (local.set $sA (f64.add (local.get $sA)
                  (f64.mul (local.get $lik) (f64.load (i32.add (local.get $ya) (i32.shl (local.get $k) (i32.const 3)))))))
                (local.set $sB (f64.add (local.get $sB)
                  (f64.mul (local.get $lik) (f64.load (i32.add (local.get $yb) (i32.shl (local.get $k) (i32.const 3)))))))))
            (local.set $sA (f64.add (local.get $sA) (f64x2.extract_lane 1 (local.get $accA))))
            (local.set $sB (f64.add (local.get $sB) (f64x2.extract_lane 1 (local.get $accB))))
            (local.set $lii (f64.load (i32.add (local.get $li) (i32.shl (local.get $i) (i32.const 3)))))
            (f64.store (i32.add (local.get $ya) (i32.shl (local.get $i) (i32.const 3)))
              (f64.div (f64.sub (f64.load (i32.add (local.get $ba) (i32.shl (local.get $i) (i32.const 3)))) (local.get $sA)) (local.get $lii)))
            (f64.store (i32.add (local.get $yb) (i32.shl (local.get $i) (i32.const 3)))
              (f64.div (f64.sub (f64.load (i32.add (local.get $bb) (i32.shl (local.get $i) (i32.const 3)))) (local.get $sB)) (local.get $lii)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $row)))
        (local.set $a (i32.add (local.get $a) (i32.const 2)))
        (br $pairs)))
    ;; an odd last row alone
    (if (i32.lt_s (local.get $a) (local.get $rows))
      (then
        (local.set $ya (i32.add (local.get $Y) (i32.mul (local.get $a) (local.get $rowBytes))))
        (local.set $ba (i32.add (local.get $B) (i32.mul (local.get $a) (local.get $rowBytes))))
        (local.set $i (i32.const 0))
        (block $rowsDone1
          (loop $row1
            (br_if $rowsDone1 (i32.ge_s (local.get $i) (local.get $d)))
            (local.set $li (i32.add (local.get $L) (i32.mul (local.get $i) (local.get $rowBytes))))
            (local.set $accA (f64x2.splat (f64.const 0)))
            (local.set $k (i32.const 0))
            (block $dotDone1
              (loop $dot1
                (br_if $dotDone1 (i32.ge_s (i32.add (local.get $k) (i32.const 1)) (local.get $i)))
                (local.set $accA (f64x2.add (local.get $accA)
                  (f64x2.mul (v128.load (i32.add (local.get $li) (i32.shl (local.get $k) (i32.const 3))))
                             (v128.load (i32.add (local.get $ya) (i32.shl (local.get $k) (i32.const 3)))))))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $dot1)))
            (local.set $sA (f64x2.extract_lane 0 (local.get $accA)))
            (if (i32.lt_s (local.get $k) (local.get $i))
              (then
                (local.set $sA (f64.add (local.get $sA)
                  (f64.mul (f64.load (i32.add (local.get $li) (i32.shl (local.get $k) (i32.const 3))))
                           (f64.load (i32.add (local.get $ya) (i32.shl (local.get $k) (i32.const 3)))))))))
            (local.set $sA (f64.add (local.get $sA) (f64x2.extract_lane 1 (local.get $accA))))
            (f64.store (i32.add (local.get $ya) (i32.shl (local.get $i) (i32.const 3)))
              (f64.div (f64.sub (f64.load (i32.add (local.get $ba) (i32.shl (local.get $i) (i32.const 3)))) (local.get $sA))
                       (f64.load (i32.add (local.get $li) (i32.shl (local.get $i) (i32.const 3))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $row1))))))

  ;; Dot product of n f64 at $x and $y with the two-accumulator order.
  (func $dot (param $x i32) (param $y i32) (param $n i32) (result f64)
    (local $k i32) (local $acc v128) (local $s f64)
    (local.set $acc (f64x2.splat (f64.const 0)))
    (local.set $k (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (i32.add (local.get $k) (i32.const 1)) (local.get $n)))
        (local.set $acc (f64x2.add (local.get $acc)
          (f64x2.mul (v128.load (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 3))))
                     (v128.load (i32.add (local.get $y) (i32.shl (local.get $k) (i32.const 3)))))))
        (local.set $k (i32.add (local.get $k) (i32.const 2)))
        (br $next)))
    (local.set $s (f64x2.extract_lane 0 (local.get $acc)))
    (if (i32.lt_s (local.get $k) (local.get $n))
      (then
        (local.set $s (f64.add (local.get $s)
          (f64.mul (f64.load (i32.add (local.get $x) (i32.shl (local.get $k) (i32.const 3))))
                   (f64.load (i32.add (local.get $y) (i32.shl (local.get $k) (i32.const 3)))))))))
    (f64.add (local.get $s) (f64x2.extract_lane 1 (local.get $acc))))

  ;; S[a][b] = S[b][a] = v (S rows × rows).
  (func $put (param $S i32) (param $rows i32) (param $a i32) (param $b i32) (param $v f64)
    (f64.store (i32.add (local.get $S) (i32.shl (i32.add (i32.mul (local.get $a) (local.get $rows)) (local.get $b)) (i32.const 3))) (local.get $v))
    (f64.store (i32.add (local.get $S) (i32.shl (i32.add (i32.mul (local.get $b) (local.get $rows)) (local.get $a)) (i32.const 3))) (local.get $v)))

  ;; $dot's ending: lane 0, plus the odd tail's product when there is one, plus lane 1.
  (func $finish (param $acc v128) (param $hasTail i32) (param $tail f64) (result f64)
    (local $s f64)
    (local.set $s (f64x2.extract_lane 0 (local.get $acc)))
    (if (local.get $hasTail) (then (local.set $s (f64.add (local.get $s) (local.get $tail)))))
    (f64.add (local.get $s) (f64x2.extract_lane 1 (local.get $acc))))

  ;; S = Y Yᵀ (rows × rows, full) for Y rows × d. Off-diagonal 2 × 2 blocks of rows (a, a+1) × (b, b+1) share their
  ;; loads and run four independent add chains; every entry is summed exactly as $dot sums it (bit-identical).
  (func (export "gram_rows") (param $Y i32) (param $S i32) (param $rows i32) (param $d i32)
    (local $a i32) (local $b i32) (local $rowBytes i32) (local $k i32) (local $off i32) (local $hasTail i32)
    (local $ya i32) (local $ya1 i32) (local $yb i32) (local $yb1 i32)
    (local $va v128) (local $va1 v128) (local $vb v128) (local $vb1 v128)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $ta f64) (local $ta1 f64) (local $tb f64) (local $tb1 f64)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 3)))
    (local.set $a (i32.const 0))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.ge_s (i32.add (local.get $a) (i32.const 1)) (local.get $rows)))
        (local.set $ya (i32.add (local.get $Y) (i32.mul (local.get $a) (local.get $rowBytes))))
        (local.set $ya1 (i32.add (local.get $ya) (local.get $rowBytes)))
        ;; blocks (a, a+1) × (b, b+1) for b + 1 < a
        (local.set $b (i32.const 0))
        (block $blocksDone
          (loop $blocks
            (br_if $blocksDone (i32.ge_s (i32.add (local.get $b) (i32.const 1)) (local.get $a)))
            (local.set $yb (i32.add (local.get $Y) (i32.mul (local.get $b) (local.get $rowBytes))))
            (local.set $yb1 (i32.add (local.get $yb) (local.get $rowBytes)))
            (local.set $c00 (f64x2.splat (f64.const 0)))
            (local.set $c01 (f64x2.splat (f64.const 0)))
            (local.set $c10 (f64x2.splat (f64.const 0)))
            (local.set $c11 (f64x2.splat (f64.const 0)))
            (local.set $k (i32.const 0))
            (block $dotDone
              (loop $dot
                (br_if $dotDone (i32.ge_s (i32.add (local.get $k) (i32.const 1)) (local.get $d)))
                (local.set $off (i32.shl (local.get $k) (i32.const 3)))
                (local.set $va (v128.load (i32.add (local.get $ya) (local.get $off))))
                (local.set $va1 (v128.load (i32.add (local.get $ya1) (local.get $off))))
                (local.set $vb (v128.load (i32.add (local.get $yb) (local.get $off))))
                (local.set $vb1 (v128.load (i32.add (local.get $yb1) (local.get $off))))
                (local.set $c00 (f64x2.add (local.get $c00) (f64x2.mul (local.get $va) (local.get $vb))))
                (local.set $c01 (f64x2.add (local.get $c01) (f64x2.mul (local.get $va) (local.get $vb1))))
                (local.set $c10 (f64x2.add (local.get $c10) (f64x2.mul (local.get $va1) (local.get $vb))))
                (local.set $c11 (f64x2.add (local.get $c11) (f64x2.mul (local.get $va1) (local.get $vb1))))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $dot)))
            (local.set $hasTail (i32.lt_s (local.get $k) (local.get $d)))
            (local.set $off (i32.shl (local.get $k) (i32.const 3)))
            (if (local.get $hasTail)
              (then
                (local.set $ta (f64.load (i32.add (local.get $ya) (local.get $off))))
                (local.set $ta1 (f64.load (i32.add (local.get $ya1) (local.get $off))))
                (local.set $tb (f64.load (i32.add (local.get $yb) (local.get $off))))
                (local.set $tb1 (f64.load (i32.add (local.get $yb1) (local.get $off))))))
            (call $put (local.get $S) (local.get $rows) (local.get $a) (local.get $b)
              (call $finish (local.get $c00) (local.get $hasTail) (f64.mul (local.get $ta) (local.get $tb))))
            (call $put (local.get $S) (local.get $rows) (local.get $a) (i32.add (local.get $b) (i32.const 1))
              (call $finish (local.get $c01) (local.get $hasTail) (f64.mul (local.get $ta) (local.get $tb1))))
            (call $put (local.get $S) (local.get $rows) (i32.add (local.get $a) (i32.const 1)) (local.get $b)
              (call $finish (local.get $c10) (local.get $hasTail) (f64.mul (local.get $ta1) (local.get $tb))))
            (call $put (local.get $S) (local.get $rows) (i32.add (local.get $a) (i32.const 1)) (i32.add (local.get $b) (i32.const 1))
              (call $finish (local.get $c11) (local.get $hasTail) (f64.mul (local.get $ta1) (local.get $tb1))))
            (local.set $b (i32.add (local.get $b) (i32.const 2)))
            (br $blocks)))
        ;; the diagonal block: (a, a), (a+1, a), (a+1, a+1)
        (call $put (local.get $S) (local.get $rows) (local.get $a) (local.get $a)
          (call $dot (local.get $ya) (local.get $ya) (local.get $d)))
        (call $put (local.get $S) (local.get $rows) (i32.add (local.get $a) (i32.const 1)) (local.get $a)
          (call $dot (local.get $ya1) (local.get $ya) (local.get $d)))
        (call $put (local.get $S) (local.get $rows) (i32.add (local.get $a) (i32.const 1)) (i32.add (local.get $a) (i32.const 1))
          (call $dot (local.get $ya1) (local.get $ya1) (local.get $d)))
        (local.set $a (i32.add (local.get $a) (i32.const 2)))
        (br $pairs)))
    ;; an odd last row against every row
    (if (i32.lt_s (local.get $a) (local.get $rows))
      (then
        (local.set $ya (i32.add (local.get $Y) (i32.mul (local.get $a) (local.get $rowBytes))))
        (local.set $b (i32.const 0))
        (block $lastDone
          (loop $last
            (br_if $lastDone (i32.gt_s (local.get $b) (local.get $a)))
            (call $put (local.get $S) (local.get $rows) (local.get $a) (local.get $b)
              (call $dot (local.get $ya) (i32.add (local.get $Y) (i32.mul (local.get $b) (local.get $rowBytes))) (local.get $d)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $last))))))

  ;; OUT[t] = MEAN + SIG[t] · F Z[t] for `count` draws: F is n × r (lower-triangular rows when $lower), Z count × r,
  ;; OUT count × n. Two draws share each row of F.
  (func (export "score_draws") (param $F i32) (param $Z i32) (param $MEAN i32) (param $SIG i32) (param $OUT i32)
        (param $n i32) (param $r i32) (param $count i32) (param $lower i32)
    (local $t i32) (local $i i32) (local $k i32) (local $end i32) (local $fi i32) (local $off i32)
    (local $za i32) (local $zb i32) (local $zc i32) (local $zd i32) (local $oa i32) (local $ob i32) (local $oc i32) (local $od i32)
    (local $accA v128) (local $accB v128) (local $accC v128) (local $accD v128) (local $f v128)
    (local $sA f64) (local $sB f64) (local $sC f64) (local $sD f64) (local $fk f64) (local $m f64)
    (local.set $t (i32.const 0))
    ;; four draws per pass first (one load of F for four ζ, four independent add chains; each draw summed as below)
    (block $quadsDone
      (loop $quads
        (br_if $quadsDone (i32.ge_s (i32.add (local.get $t) (i32.const 3)) (local.get $count)))
        (local.set $za (i32.add (local.get $Z) (i32.shl (i32.mul (local.get $t) (local.get $r)) (i32.const 3))))
        (local.set $zb (i32.add (local.get $za) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $zc (i32.add (local.get $zb) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $zd (i32.add (local.get $zc) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $oa (i32.add (local.get $OUT) (i32.shl (i32.mul (local.get $t) (local.get $n)) (i32.const 3))))
        (local.set $ob (i32.add (local.get $oa) (i32.shl (local.get $n) (i32.const 3))))
        (local.set $oc (i32.add (local.get $ob) (i32.shl (local.get $n) (i32.const 3))))
        (local.set $od (i32.add (local.get $oc) (i32.shl (local.get $n) (i32.const 3))))
        (local.set $i (i32.const 0))
        (block $qRowsDone
          (loop $qRow
            (br_if $qRowsDone (i32.ge_s (local.get $i) (local.get $n)))
            (local.set $end (local.get $r))
            (if (i32.and (local.get $lower) (i32.lt_s (i32.add (local.get $i) (i32.const 1)) (local.get $r)))
              (then (local.set $end (i32.add (local.get $i) (i32.const 1)))))
            (local.set $fi (i32.add (local.get $F) (i32.shl (i32.mul (local.get $i) (local.get $r)) (i32.const 3))))
            (local.set $accA (f64x2.splat (f64.const 0)))
            (local.set $accB (f64x2.splat (f64.const 0)))
            (local.set $accC (f64x2.splat (f64.const 0)))
            (local.set $accD (f64x2.splat (f64.const 0)))
            (local.set $k (i32.const 0))
            (block $qDotDone
              (loop $qDot
                (br_if $qDotDone (i32.ge_s (i32.add (local.get $k) (i32.const 1)) (local.get $end)))
                (local.set $off (i32.shl (local.get $k) (i32.const 3)))
                (local.set $f (v128.load (i32.add (local.get $fi) (local.get $off))))
                (local.set $accA (f64x2.add (local.get $accA)
                  (f64x2.mul (local.get $f) (v128.load (i32.add (local.get $za) (local.get $off))))))
                (local.set $accB (f64x2.add (local.get $accB)
                  (f64x2.mul (local.get $f) (v128.load (i32.add (local.get $zb) (local.get $off))))))
                (local.set $accC (f64x2.add (local.get $accC)
                  (f64x2.mul (local.get $f) (v128.load (i32.add (local.get $zc) (local.get $off))))))
                (local.set $accD (f64x2.add (local.get $accD)
                  (f64x2.mul (local.get $f) (v128.load (i32.add (local.get $zd) (local.get $off))))))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $qDot)))
            (local.set $sA (f64x2.extract_lane 0 (local.get $accA)))
            (local.set $sB (f64x2.extract_lane 0 (local.get $accB)))
            (local.set $sC (f64x2.extract_lane 0 (local.get $accC)))
            (local.set $sD (f64x2.extract_lane 0 (local.get $accD)))
            (if (i32.lt_s (local.get $k) (local.get $end))
              (then
                (local.set $off (i32.shl (local.get $k) (i32.const 3)))
                (local.set $fk (f64.load (i32.add (local.get $fi) (local.get $off))))
                (local.set $sA (f64.add (local.get $sA)
                  (f64.mul (local.get $fk) (f64.load (i32.add (local.get $za) (local.get $off))))))
                (local.set $sB (f64.add (local.get $sB)
                  (f64.mul (local.get $fk) (f64.load (i32.add (local.get $zb) (local.get $off))))))
                (local.set $sC (f64.add (local.get $sC)
                  (f64.mul (local.get $fk) (f64.load (i32.add (local.get $zc) (local.get $off))))))
                (local.set $sD (f64.add (local.get $sD)
                  (f64.mul (local.get $fk) (f64.load (i32.add (local.get $zd) (local.get $off))))))))
            (local.set $sA (f64.add (local.get $sA) (f64x2.extract_lane 1 (local.get $accA))))
            (local.set $sB (f64.add (local.get $sB) (f64x2.extract_lane 1 (local.get $accB))))
            (local.set $sC (f64.add (local.get $sC) (f64x2.extract_lane 1 (local.get $accC))))
            (local.set $sD (f64.add (local.get $sD) (f64x2.extract_lane 1 (local.get $accD))))
            (local.set $off (i32.shl (local.get $i) (i32.const 3)))
            (local.set $m (f64.load (i32.add (local.get $MEAN) (local.get $off))))
            (f64.store (i32.add (local.get $oa) (local.get $off))
              (f64.add (local.get $m) (f64.mul (f64.load (i32.add (local.get $SIG) (i32.shl (i32.add (local.get $t) (i32.const 0)) (i32.const 3)))) (local.get $sA))))
            (f64.store (i32.add (local.get $ob) (local.get $off))
              (f64.add (local.get $m) (f64.mul (f64.load (i32.add (local.get $SIG) (i32.shl (i32.add (local.get $t) (i32.const 1)) (i32.const 3)))) (local.get $sB))))
            (f64.store (i32.add (local.get $oc) (local.get $off))
              (f64.add (local.get $m) (f64.mul (f64.load (i32.add (local.get $SIG) (i32.shl (i32.add (local.get $t) (i32.const 2)) (i32.const 3)))) (local.get $sC))))
            (f64.store (i32.add (local.get $od) (local.get $off))
              (f64.add (local.get $m) (f64.mul (f64.load (i32.add (local.get $SIG) (i32.shl (i32.add (local.get $t) (i32.const 3)) (i32.const 3)))) (local.get $sD))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $qRow)))
        (local.set $t (i32.add (local.get $t) (i32.const 4)))
        (br $quads)))
    (block $pairsDone
      (loop $pairs
        (br_if $pairsDone (i32.ge_s (i32.add (local.get $t) (i32.const 1)) (local.get $count)))
        (local.set $za (i32.add (local.get $Z) (i32.shl (i32.mul (local.get $t) (local.get $r)) (i32.const 3))))
        (local.set $zb (i32.add (local.get $za) (i32.shl (local.get $r) (i32.const 3))))
        (local.set $oa (i32.add (local.get $OUT) (i32.shl (i32.mul (local.get $t) (local.get $n)) (i32.const 3))))
        (local.set $ob (i32.add (local.get $oa) (i32.shl (local.get $n) (i32.const 3))))
        (local.set $i (i32.const 0))
        (block $rowsDone
          (loop $row
            (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $n)))
            (local.set $end (local.get $r))
            (if (i32.and (local.get $lower) (i32.lt_s (i32.add (local.get $i) (i32.const 1)) (local.get $r)))
              (then (local.set $end (i32.add (local.get $i) (i32.const 1)))))
            (local.set $fi (i32.add (local.get $F) (i32.shl (i32.mul (local.get $i) (local.get $r)) (i32.const 3))))
            (local.set $accA (f64x2.splat (f64.const 0)))
            (local.set $accB (f64x2.splat (f64.const 0)))
            (local.set $k (i32.const 0))
            (block $dotDone
              (loop $dot
                (br_if $dotDone (i32.ge_s (i32.add (local.get $k) (i32.const 1)) (local.get $end)))
                (local.set $f (v128.load (i32.add (local.get $fi) (i32.shl (local.get $k) (i32.const 3)))))
                (local.set $accA (f64x2.add (local.get $accA)
                  (f64x2.mul (local.get $f) (v128.load (i32.add (local.get $za) (i32.shl (local.get $k) (i32.const 3)))))))
                (local.set $accB (f64x2.add (local.get $accB)
                  (f64x2.mul (local.get $f) (v128.load (i32.add (local.get $zb) (i32.shl (local.get $k) (i32.const 3)))))))
                (local.set $k (i32.add (local.get $k) (i32.const 2)))
                (br $dot)))
            (local.set $sA (f64x2.extract_lane 0 (local.get $accA)))
            (local.set $sB (f64x2.extract_lane 0 (local.get $accB)))
            (if (i32.lt_s (local.get $k) (local.get $end))
              (then
                (local.set $fk (f64.load (i32.add (local.get $fi) (i32.shl (local.get $k) (i32.const 3)))))
                (local.set $sA (f64.add (local.get $sA)
                  (f64.mul (local.get $fk) (f64.load (i32.add (local.get $za) (i32.shl (local.get $k) (i32.const 3)))))))
                (local.set $sB (f64.add (local.get $sB)
                  (f64.mul (local.get $fk) (f64.load (i32.add (local.get $zb) (i32.shl (local.get $k) (i32.const 3)))))))))
            (local.set $sA (f64.add (local.get $sA) (f64x2.extract_lane 1 (local.get $accA))))
            (local.set $sB (f64.add (local.get $sB) (f64x2.extract_lane 1 (local.get $accB))))
            (local.set $m (f64.load (i32.add (local.get $MEAN) (i32.shl (local.get $i) (i32.const 3)))))
            (f64.store (i32.add (local.get $oa) (i32.shl (local.get $i) (i32.const 3)))
              (f64.add (local.get $m) (f64.mul (f64.load (i32.add (local.get $SIG) (i32.shl (local.get $t) (i32.const 3)))) (local.get $sA))))
            (f64.store (i32.add (local.get $ob) (i32.shl (local.get $i) (i32.const 3)))
              (f64.add (local.get $m) (f64.mul (f64.load (i32.add (local.get $SIG) (i32.shl (i32.add (local.get $t) (i32.const 1)) (i32.const 3)))) (local.get $sB))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $row)))
        (local.set $t (i32.add (local.get $t) (i32.const 2)))
        (br $pairs)))
    ;; an odd last draw alone
    (if (i32.lt_s (local.get $t) (local.get $count))
      (then
        (local.set $za (i32.add (local.get $Z) (i32.shl (i32.mul (local.get $t) (local.get $r)) (i32.const 3))))
        (local.set $oa (i32.add (local.get $OUT) (i32.shl (i32.mul (local.get $t) (local.get $n)) (i32.const 3))))
        (local.set $i (i32.const 0))
        (block $rowsDone1
          (loop $row1
            (br_if $rowsDone1 (i32.ge_s (local.get $i) (local.get $n)))
            (local.set $end (local.get $r))
            (if (i32.and (local.get $lower) (i32.lt_s (i32.add (local.get $i) (i32.const 1)) (local.get $r)))
              (then (local.set $end (i32.add (local.get $i) (i32.const 1)))))
            (f64.store (i32.add (local.get $oa) (i32.shl (local.get $i) (i32.const 3)))
              (f64.add (f64.load (i32.add (local.get $MEAN) (i32.shl (local.get $i) (i32.const 3))))
                (f64.mul (f64.load (i32.add (local.get $SIG) (i32.shl (local.get $t) (i32.const 3))))
                  (call $dot (i32.add (local.get $F) (i32.shl (i32.mul (local.get $i) (local.get $r)) (i32.const 3))) (local.get $za) (local.get $end)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $row1))))))
  ;; Greedy top-k of ROW (n f64) into ORDER (k i32, candidate indices) and VALUES (k f64), then COUNTS[j] += 1 where
  ;; ORDER[j] = CHOSEN[j]. ROW[p] is the score of candidate VISIT[p]: largest first, ties to the lower candidate index,
  ;; whatever the visiting order — the order of slate.ts topKAt. Visiting by decreasing mean fills the list with the
  ;; likely winners first, so most later scores fail the first comparison (fewer mispredicted insertions).
  (func $top_count (param $ROW i32) (param $VISIT i32) (param $n i32) (param $k i32) (param $CHOSEN i32)
        (param $COUNTS i32) (param $ORDER i32) (param $VALUES i32)
    (local $p i32) (local $q i32) (local $filled i32) (local $idx i32) (local $lastIdx i32) (local $j i32)
    (local $v f64) (local $last f64) (local $u f64)
    (local.set $last (f64.const -inf))
    (local.set $p (i32.const 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_s (local.get $p) (local.get $n)))
        (local.set $v (f64.load (i32.add (local.get $ROW) (i32.shl (local.get $p) (i32.const 3)))))
        (local.set $idx (i32.load (i32.add (local.get $VISIT) (i32.shl (local.get $p) (i32.const 2)))))
        (block $skip
          ;; a full list keeps (v, idx) only when it ranks before the last entry
          (br_if $skip (i32.and (i32.eq (local.get $filled) (local.get $k))
            (i32.eqz (i32.or (f64.gt (local.get $v) (local.get $last))
              (i32.and (f64.eq (local.get $v) (local.get $last)) (i32.lt_s (local.get $idx) (local.get $lastIdx)))))))
          (local.set $q (select (local.get $filled) (i32.sub (local.get $k) (i32.const 1)) (i32.lt_s (local.get $filled) (local.get $k))))
          (block $placed
            (loop $shift
              (br_if $placed (i32.le_s (local.get $q) (i32.const 0)))
              (local.set $u (f64.load (i32.add (local.get $VALUES) (i32.shl (i32.sub (local.get $q) (i32.const 1)) (i32.const 3)))))
              (br_if $placed (i32.eqz (i32.or (f64.gt (local.get $v) (local.get $u))
                (i32.and (f64.eq (local.get $v) (local.get $u))
                  (i32.lt_s (local.get $idx)
                    (i32.load (i32.add (local.get $ORDER) (i32.shl (i32.sub (local.get $q) (i32.const 1)) (i32.const 2)))))))))
              (f64.store (i32.add (local.get $VALUES) (i32.shl (local.get $q) (i32.const 3))) (local.get $u))
              (i32.store (i32.add (local.get $ORDER) (i32.shl (local.get $q) (i32.const 2)))
                (i32.load (i32.add (local.get $ORDER) (i32.shl (i32.sub (local.get $q) (i32.const 1)) (i32.const 2)))))
              (local.set $q (i32.sub (local.get $q) (i32.const 1)))
              (br $shift)))
          (f64.store (i32.add (local.get $VALUES) (i32.shl (local.get $q) (i32.const 3))) (local.get $v))
          (i32.store (i32.add (local.get $ORDER) (i32.shl (local.get $q) (i32.const 2))) (local.get $idx))
          (if (i32.lt_s (local.get $filled) (local.get $k))
            (then (local.set $filled (i32.add (local.get $filled) (i32.const 1)))))
          (local.set $last (f64.load (i32.add (local.get $VALUES) (i32.shl (i32.sub (local.get $k) (i32.const 1)) (i32.const 3)))))
          (local.set $lastIdx (i32.load (i32.add (local.get $ORDER) (i32.shl (i32.sub (local.get $k) (i32.const 1)) (i32.const 2))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.set $j (i32.const 0))
    (block $countDone
      (loop $count
        (br_if $countDone (i32.ge_s (local.get $j) (local.get $k)))
        (if (i32.eq (i32.load (i32.add (local.get $ORDER) (i32.shl (local.get $j) (i32.const 2))))
                    (i32.load (i32.add (local.get $CHOSEN) (i32.shl (local.get $j) (i32.const 2)))))
          (then
            (f64.store (i32.add (local.get $COUNTS) (i32.shl (local.get $j) (i32.const 3)))
              (f64.add (f64.load (i32.add (local.get $COUNTS) (i32.shl (local.get $j) (i32.const 3)))) (f64.const 1)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $count))))

  ;; Antithetic pairs counted in place: for pair t, with d_i = SIG[t] · P[t][i] (P pairs × n: the products F ζ_t),
  ;; the rows MEAN + d and MEAN − d each go through $top_count, visited in the order VISIT (n i32, a permutation of
  ;; the candidates; ROW holds them in that order) — the draws nig.ts samplePairs writes, with the same operations,
  ;; without handing them back to JavaScript.
  (func (export "pair_counts") (param $P i32) (param $MEAN i32) (param $SIG i32) (param $ROW i32) (param $VISIT i32)
        (param $n i32) (param $pairs i32) (param $k i32) (param $CHOSEN i32) (param $COUNTS i32) (param $ORDER i32)
        (param $VALUES i32)
    (local $t i32) (local $i i32) (local $pt i32) (local $s f64) (local $d f64) (local $at i32) (local $sign i32)
    (local $p i32)
    (local.set $t (i32.const 0))
    (block $done
      (loop $pair
        (br_if $done (i32.ge_s (local.get $t) (local.get $pairs)))
        (local.set $s (f64.load (i32.add (local.get $SIG) (i32.shl (local.get $t) (i32.const 3)))))
        (local.set $pt (i32.add (local.get $P) (i32.shl (i32.mul (local.get $t) (local.get $n)) (i32.const 3))))
        (local.set $sign (i32.const 0))
        (block $rowsDone
          (loop $row
            (br_if $rowsDone (i32.ge_s (local.get $sign) (i32.const 2)))
            (local.set $p (i32.const 0))
            (block $fillDone
              (loop $fill
                (br_if $fillDone (i32.ge_s (local.get $p) (local.get $n)))
                (local.set $i (i32.load (i32.add (local.get $VISIT) (i32.shl (local.get $p) (i32.const 2)))))
                (local.set $at (i32.shl (local.get $i) (i32.const 3)))
                (local.set $d (f64.mul (local.get $s) (f64.load (i32.add (local.get $pt) (local.get $at)))))
                (f64.store (i32.add (local.get $ROW) (i32.shl (local.get $p) (i32.const 3)))
                  (if (result f64) (local.get $sign)
                    (then (f64.sub (f64.load (i32.add (local.get $MEAN) (local.get $at))) (local.get $d)))
                    (else (f64.add (f64.load (i32.add (local.get $MEAN) (local.get $at))) (local.get $d)))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $fill)))
            (call $top_count (local.get $ROW) (local.get $VISIT) (local.get $n) (local.get $k) (local.get $CHOSEN)
              (local.get $COUNTS) (local.get $ORDER) (local.get $VALUES))
            (local.set $sign (i32.add (local.get $sign) (i32.const 1)))
            (br $row)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $pair))))

;; k rank-one updates of the lower-triangular d × d factor L in one pass: L ← chol(L Lᵀ + Σ_u W_u W_uᵀ), W (k × d)
;; holding the update rows (overwritten as work). Every entry of L and of each W row goes through exactly the
;; operations of k successive linalg.ts cholUpdate calls — the same 4-column blocks, update u's rotation of a column
;; after update u−1's, l = (l + s w)/c as (l + s w)·(1/c), w = c w − s l, the identity rotation when w = 0 — only the
;; traversal differs (and WebAssembly has no fused multiply-add), so the bits are theirs (tested). ROT is 12 k doubles
;; of scratch: per update c, s, 1/c of the block's four columns.
  (func (export "chol_update") (param $L i32) (param $W i32) (param $ROT i32) (param $k i32) (param $d i32)
    (local $rowBytes i32) (local $k0 i32) (local $kb i32) (local $u i32) (local $b i32) (local $q i32) (local $i i32)
    (local $wu i32) (local $ru i32) (local $rk i32) (local $p i32) (local $at i32) (local $wAt i32)
    (local $w f64) (local $lik f64) (local $lkk f64) (local $r f64) (local $ck f64) (local $s f64)
    (local $l0 v128) (local $l1 v128) (local $l2 v128) (local $l3 v128) (local $vw v128) (local $vs v128)
    (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $m3 v128) (local $vx v128) (local $vi v128) (local $vc v128)
    (local $p2 i32) (local $at2 i32)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 3)))
    (local.set $k0 (i32.const 0))
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_s (local.get $k0) (local.get $d)))
        (local.set $kb (i32.sub (local.get $d) (local.get $k0)))
        (if (i32.gt_s (local.get $kb) (i32.const 4)) (then (local.set $kb (i32.const 4))))
        ;; the block's diagonal triangle, update after update
        (local.set $u (i32.const 0))
        (block $triDone
          (loop $tri
            (br_if $triDone (i32.ge_s (local.get $u) (local.get $k)))
            (local.set $wu (i32.add (local.get $W) (i32.mul (local.get $u) (local.get $rowBytes))))
            (local.set $ru (i32.add (local.get $ROT) (i32.mul (local.get $u) (i32.const 96))))
            (local.set $b (i32.const 0))
            (block $diagDone
              (loop $diag
                (br_if $diagDone (i32.ge_s (local.get $b) (local.get $kb)))
                ;; rk = byte offset of L[k0 + b, k0]
                (local.set $rk (i32.add (local.get $L) (i32.add
                  (i32.mul (i32.add (local.get $k0) (local.get $b)) (local.get $rowBytes))
                  (i32.shl (local.get $k0) (i32.const 3)))))
                (local.set $wAt (i32.add (local.get $wu) (i32.shl (i32.add (local.get $k0) (local.get $b)) (i32.const 3))))
                (local.set $w (f64.load (local.get $wAt)))
                (local.set $q (i32.const 0))
                (block $offDone
                  (loop $off
                    (br_if $offDone (i32.ge_s (local.get $q) (local.get $b)))
                    (local.set $at (i32.add (local.get $rk) (i32.shl (local.get $q) (i32.const 3))))
                    (local.set $s (f64.load offset=32 (i32.add (local.get $ru) (i32.shl (local.get $q) (i32.const 3)))))
                    (local.set $lik (f64.mul
                      (f64.add (f64.load (local.get $at)) (f64.mul (local.get $s) (local.get $w)))
                      (f64.load offset=64 (i32.add (local.get $ru) (i32.shl (local.get $q) (i32.const 3))))))
                    (f64.store (local.get $at) (local.get $lik))
                    (local.set $w (f64.sub
                      (f64.mul (f64.load (i32.add (local.get $ru) (i32.shl (local.get $q) (i32.const 3)))) (local.get $w))
                      (f64.mul (local.get $s) (local.get $lik))))
                    (local.set $q (i32.add (local.get $q) (i32.const 1)))
                    (br $off)))
                (f64.store (local.get $wAt) (local.get $w))
                (local.set $at (i32.add (local.get $ru) (i32.shl (local.get $b) (i32.const 3))))
                (if (f64.eq (local.get $w) (f64.const 0))
                  (then
                    (f64.store (local.get $at) (f64.const 1))
                    (f64.store offset=32 (local.get $at) (f64.const 0))
                    (f64.store offset=64 (local.get $at) (f64.const 1)))
                  (else
                    (local.set $p (i32.add (local.get $rk) (i32.shl (local.get $b) (i32.const 3))))
                    (local.set $lkk (f64.load (local.get $p)))
                    (local.set $r (f64.sqrt (f64.add
                      (f64.mul (local.get $lkk) (local.get $lkk)) (f64.mul (local.get $w) (local.get $w)))))
                    (local.set $ck (f64.div (local.get $r) (local.get $lkk)))
                    (f64.store (local.get $at) (local.get $ck))
                    (f64.store offset=32 (local.get $at) (f64.div (local.get $w) (local.get $lkk)))
                    (f64.store offset=64 (local.get $at) (f64.div (f64.const 1) (local.get $ck)))
                    (f64.store (local.get $p) (local.get $r))))
                (local.set $b (i32.add (local.get $b) (i32.const 1)))
                (br $diag)))
            (local.set $u (i32.add (local.get $u) (i32.const 1)))
            (br $tri)))
        ;; the rows below it: each entry takes update 0's rotation, then update 1's, … A full block (four columns)
        ;; takes four rows per pass, then two, two rows in each v128 (the rows are independent and share the rotations), its four
        ;; entries kept in registers across the k updates.
        (local.set $i (i32.add (local.get $k0) (local.get $kb)))
        (if (i32.eq (local.get $kb) (i32.const 4))
          (then
            ;; four rows per pass (two lane pairs): each rotation's three splats serve both pairs
            (block $quadsDone
              (loop $quads
                (br_if $quadsDone (i32.ge_s (i32.add (local.get $i) (i32.const 3)) (local.get $d)))
                (local.set $p (i32.add (local.get $L) (i32.add
                  (i32.mul (local.get $i) (local.get $rowBytes)) (i32.shl (local.get $k0) (i32.const 3)))))
                (local.set $at (i32.add (local.get $p) (local.get $rowBytes)))
                (local.set $p2 (i32.add (local.get $at) (local.get $rowBytes)))
                (local.set $at2 (i32.add (local.get $p2) (local.get $rowBytes)))
                (local.set $l0 (f64x2.replace_lane 1
                  (f64x2.splat (f64.load (local.get $p))) (f64.load (local.get $at))))
                (local.set $l1 (f64x2.replace_lane 1
                  (f64x2.splat (f64.load offset=8 (local.get $p))) (f64.load offset=8 (local.get $at))))
                (local.set $l2 (f64x2.replace_lane 1
                  (f64x2.splat (f64.load offset=16 (local.get $p))) (f64.load offset=16 (local.get $at))))
                (local.set $l3 (f64x2.replace_lane 1
                  (f64x2.splat (f64.load offset=24 (local.get $p))) (f64.load offset=24 (local.get $at))))
                (local.set $m0 (f64x2.replace_lane 1
                  (f64x2.splat (f64.load (local.get $p2))) (f64.load (local.get $at2))))
                (local.set $m1 (f64x2.replace_lane 1
                  (f64x2.splat (f64.load offset=8 (local.get $p2))) (f64.load offset=8 (local.get $at2))))
                (local.set $m2 (f64x2.replace_lane 1
                  (f64x2.splat (f64.load offset=16 (local.get $p2))) (f64.load offset=16 (local.get $at2))))
                (local.set $m3 (f64x2.replace_lane 1
                  (f64x2.splat (f64.load offset=24 (local.get $p2))) (f64.load offset=24 (local.get $at2))))
                (local.set $wAt (i32.add (local.get $W) (i32.shl (local.get $i) (i32.const 3))))
                (local.set $ru (local.get $ROT))
                (local.set $u (i32.const 0))
                (block $qUpdDone
                  (loop $qUpd
                    (br_if $qUpdDone (i32.ge_s (local.get $u) (local.get $k)))
                    (local.set $vw (v128.load (local.get $wAt)))
                    (local.set $vx (v128.load offset=16 (local.get $wAt)))
                    (local.set $vs (v128.load64_splat offset=32 (local.get $ru)))
                    (local.set $vi (v128.load64_splat offset=64 (local.get $ru)))
                    (local.set $vc (v128.load64_splat (local.get $ru)))
                    (local.set $l0 (f64x2.mul (f64x2.add (local.get $l0) (f64x2.mul (local.get $vs) (local.get $vw))) (local.get $vi)))
                    (local.set $vw (f64x2.sub (f64x2.mul (local.get $vc) (local.get $vw)) (f64x2.mul (local.get $vs) (local.get $l0))))
                    (local.set $m0 (f64x2.mul (f64x2.add (local.get $m0) (f64x2.mul (local.get $vs) (local.get $vx))) (local.get $vi)))
                    (local.set $vx (f64x2.sub (f64x2.mul (local.get $vc) (local.get $vx)) (f64x2.mul (local.get $vs) (local.get $m0))))
                    (local.set $vs (v128.load64_splat offset=40 (local.get $ru)))
                    (local.set $vi (v128.load64_splat offset=72 (local.get $ru)))
                    (local.set $vc (v128.load64_splat offset=8 (local.get $ru)))
                    (local.set $l1 (f64x2.mul (f64x2.add (local.get $l1) (f64x2.mul (local.get $vs) (local.get $vw))) (local.get $vi)))
                    (local.set $vw (f64x2.sub (f64x2.mul (local.get $vc) (local.get $vw)) (f64x2.mul (local.get $vs) (local.get $l1))))
                    (local.set $m1 (f64x2.mul (f64x2.add (local.get $m1) (f64x2.mul (local.get $vs) (local.get $vx))) (local.get $vi)))
                    (local.set $vx (f64x2.sub (f64x2.mul (local.get $vc) (local.get $vx)) (f64x2.mul (local.get $vs) (local.get $m1))))
                    (local.set $vs (v128.load64_splat offset=48 (local.get $ru)))
                    (local.set $vi (v128.load64_splat offset=80 (local.get $ru)))
                    (local.set $vc (v128.load64_splat offset=16 (local.get $ru)))
                    (local.set $l2 (f64x2.mul (f64x2.add (local.get $l2) (f64x2.mul (local.get $vs) (local.get $vw))) (local.get $vi)))
                    (local.set $vw (f64x2.sub (f64x2.mul (local.get $vc) (local.get $vw)) (f64x2.mul (local.get $vs) (local.get $l2))))
                    (local.set $m2 (f64x2.mul (f64x2.add (local.get $m2) (f64x2.mul (local.get $vs) (local.get $vx))) (local.get $vi)))
                    (local.set $vx (f64x2.sub (f64x2.mul (local.get $vc) (local.get $vx)) (f64x2.mul (local.get $vs) (local.get $m2))))
                    (local.set $vs (v128.load64_splat offset=56 (local.get $ru)))
                    (local.set $vi (v128.load64_splat offset=88 (local.get $ru)))
                    (local.set $vc (v128.load64_splat offset=24 (local.get $ru)))
                    (local.set $l3 (f64x2.mul (f64x2.add (local.get $l3) (f64x2.mul (local.get $vs) (local.get $vw))) (local.get $vi)))
                    (local.set $vw (f64x2.sub (f64x2.mul (local.get $vc) (local.get $vw)) (f64x2.mul (local.get $vs) (local.get $l3))))
                    (local.set $m3 (f64x2.mul (f64x2.add (local.get $m3) (f64x2.mul (local.get $vs) (local.get $vx))) (local.get $vi)))
                    (local.set $vx (f64x2.sub (f64x2.mul (local.get $vc) (local.get $vx)) (f64x2.mul (local.get $vs) (local.get $m3))))
                    (v128.store (local.get $wAt) (local.get $vw))
                    (v128.store offset=16 (local.get $wAt) (local.get $vx))
                    (local.set $wAt (i32.add (local.get $wAt) (local.get $rowBytes)))
                    (local.set $ru (i32.add (local.get $ru) (i32.const 96)))
                    (local.set $u (i32.add (local.get $u) (i32.const 1)))
                    (br $qUpd)))
                (f64.store (local.get $p) (f64x2.extract_lane 0 (local.get $l0)))
                (f64.store (local.get $at) (f64x2.extract_lane 1 (local.get $l0)))
                (f64.store offset=8 (local.get $p) (f64x2.extract_lane 0 (local.get $l1)))
                (f64.store offset=8 (local.get $at) (f64x2.extract_lane 1 (local.get $l1)))
                (f64.store offset=16 (local.get $p) (f64x2.extract_lane 0 (local.get $l2)))
                (f64.store offset=16 (local.get $at) (f64x2.extract_lane 1 (local.get $l2)))
                (f64.store offset=24 (local.get $p) (f64x2.extract_lane 0 (local.get $l3)))
                (f64.store offset=24 (local.get $at) (f64x2.extract_lane 1 (local.get $l3)))
                (f64.store (local.get $p2) (f64x2.extract_lane 0 (local.get $m0)))
                (f64.store (local.get $at2) (f64x2.extract_lane 1 (local.get $m0)))
                (f64.store offset=8 (local.get $p2) (f64x2.extract_lane 0 (local.get $m1)))
                (f64.store offset=8 (local.get $at2) (f64x2.extract_lane 1 (local.get $m1)))
                (f64.store offset=16 (local.get $p2) (f64x2.extract_lane 0 (local.get $m2)))
                (f64.store offset=16 (local.get $at2) (f64x2.extract_lane 1 (local.get $m2)))
                (f64.store offset=24 (local.get $p2) (f64x2.extract_lane 0 (local.get $m3)))
                (f64.store offset=24 (local.get $at2) (f64x2.extract_lane 1 (local.get $m3)))
                (local.set $i (i32.add (local.get $i) (i32.const 4)))
                (br $quads)))
            (block $pairsDone
              (loop $pairs
                (br_if $pairsDone (i32.ge_s (i32.add (local.get $i) (i32.const 1)) (local.get $d)))
                (local.set $p (i32.add (local.get $L) (i32.add
                  (i32.mul (local.get $i) (local.get $rowBytes)) (i32.shl (local.get $k0) (i32.const 3)))))
                (local.set $at (i32.add (local.get $p) (local.get $rowBytes)))
                (local.set $l0 (f64x2.replace_lane 1 (f64x2.splat (f64.load (local.get $p))) (f64.load (local.get $at))))
                (local.set $l1 (f64x2.replace_lane 1
                  (f64x2.splat (f64.load offset=8 (local.get $p))) (f64.load offset=8 (local.get $at))))
                (local.set $l2 (f64x2.replace_lane 1
                  (f64x2.splat (f64.load offset=16 (local.get $p))) (f64.load offset=16 (local.get $at))))
                (local.set $l3 (f64x2.replace_lane 1
                  (f64x2.splat (f64.load offset=24 (local.get $p))) (f64.load offset=24 (local.get $at))))
                (local.set $wAt (i32.add (local.get $W) (i32.shl (local.get $i) (i32.const 3))))
                (local.set $ru (local.get $ROT))
                (local.set $u (i32.const 0))
                (block $vUpdDone
                  (loop $vUpd
                    (br_if $vUpdDone (i32.ge_s (local.get $u) (local.get $k)))
                    (local.set $vw (v128.load (local.get $wAt)))
                    (local.set $vs (v128.load64_splat offset=32 (local.get $ru)))
                    (local.set $l0 (f64x2.mul (f64x2.add (local.get $l0) (f64x2.mul (local.get $vs) (local.get $vw)))
                      (v128.load64_splat offset=64 (local.get $ru))))
                    (local.set $vw (f64x2.sub (f64x2.mul (v128.load64_splat (local.get $ru)) (local.get $vw))
                      (f64x2.mul (local.get $vs) (local.get $l0))))
                    (local.set $vs (v128.load64_splat offset=40 (local.get $ru)))
                    (local.set $l1 (f64x2.mul (f64x2.add (local.get $l1) (f64x2.mul (local.get $vs) (local.get $vw)))
                      (v128.load64_splat offset=72 (local.get $ru))))
                    (local.set $vw (f64x2.sub (f64x2.mul (v128.load64_splat offset=8 (local.get $ru)) (local.get $vw))
                      (f64x2.mul (local.get $vs) (local.get $l1))))
                    (local.set $vs (v128.load64_splat offset=48 (local.get $ru)))
                    (local.set $l2 (f64x2.mul (f64x2.add (local.get $l2) (f64x2.mul (local.get $vs) (local.get $vw)))
                      (v128.load64_splat offset=80 (local.get $ru))))
                    (local.set $vw (f64x2.sub (f64x2.mul (v128.load64_splat offset=16 (local.get $ru)) (local.get $vw))
                      (f64x2.mul (local.get $vs) (local.get $l2))))
                    (local.set $vs (v128.load64_splat offset=56 (local.get $ru)))
                    (local.set $l3 (f64x2.mul (f64x2.add (local.get $l3) (f64x2.mul (local.get $vs) (local.get $vw)))
                      (v128.load64_splat offset=88 (local.get $ru))))
                    (local.set $vw (f64x2.sub (f64x2.mul (v128.load64_splat offset=24 (local.get $ru)) (local.get $vw))
                      (f64x2.mul (local.get $vs) (local.get $l3))))
                    (v128.store (local.get $wAt) (local.get $vw))
                    (local.set $wAt (i32.add (local.get $wAt) (local.get $rowBytes)))
                    (local.set $ru (i32.add (local.get $ru) (i32.const 96)))
                    (local.set $u (i32.add (local.get $u) (i32.const 1)))
                    (br $vUpd)))
                (f64.store (local.get $p) (f64x2.extract_lane 0 (local.get $l0)))
                (f64.store offset=8 (local.get $p) (f64x2.extract_lane 0 (local.get $l1)))
                (f64.store offset=16 (local.get $p) (f64x2.extract_lane 0 (local.get $l2)))
                (f64.store offset=24 (local.get $p) (f64x2.extract_lane 0 (local.get $l3)))
                (f64.store (local.get $at) (f64x2.extract_lane 1 (local.get $l0)))
                (f64.store offset=8 (local.get $at) (f64x2.extract_lane 1 (local.get $l1)))
                (f64.store offset=16 (local.get $at) (f64x2.extract_lane 1 (local.get $l2)))
                (f64.store offset=24 (local.get $at) (f64x2.extract_lane 1 (local.get $l3)))
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (br $pairs)))))
        ;; a last odd row, and every row of a narrower last block, one entry at a time
        (block $rowsDone
          (loop $rows
            (br_if $rowsDone (i32.ge_s (local.get $i) (local.get $d)))
            (local.set $p (i32.add (local.get $L) (i32.add
              (i32.mul (local.get $i) (local.get $rowBytes)) (i32.shl (local.get $k0) (i32.const 3)))))
            (local.set $u (i32.const 0))
            (block $updDone
              (loop $upd
                (br_if $updDone (i32.ge_s (local.get $u) (local.get $k)))
                (local.set $ru (i32.add (local.get $ROT) (i32.mul (local.get $u) (i32.const 96))))
                (local.set $wAt (i32.add (i32.add (local.get $W) (i32.mul (local.get $u) (local.get $rowBytes)))
                  (i32.shl (local.get $i) (i32.const 3))))
                (local.set $w (f64.load (local.get $wAt)))
                (local.set $q (i32.const 0))
                (block $colDone
                  (loop $col
                    (br_if $colDone (i32.ge_s (local.get $q) (local.get $kb)))
                    (local.set $at (i32.add (local.get $p) (i32.shl (local.get $q) (i32.const 3))))
                    (local.set $rk (i32.add (local.get $ru) (i32.shl (local.get $q) (i32.const 3))))
                    (local.set $s (f64.load offset=32 (local.get $rk)))
                    (local.set $lik (f64.mul
                      (f64.add (f64.load (local.get $at)) (f64.mul (local.get $s) (local.get $w)))
                      (f64.load offset=64 (local.get $rk))))
                    (f64.store (local.get $at) (local.get $lik))
                    (local.set $w (f64.sub
                      (f64.mul (f64.load (local.get $rk)) (local.get $w))
                      (f64.mul (local.get $s) (local.get $lik))))
                    (local.set $q (i32.add (local.get $q) (i32.const 1)))
                    (br $col)))
                (f64.store (local.get $wAt) (local.get $w))
                (local.set $u (i32.add (local.get $u) (i32.const 1)))
                (br $upd)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $rows)))
        (local.set $k0 (i32.add (local.get $k0) (i32.const 4)))
        (br $blocks)))
  )
)
