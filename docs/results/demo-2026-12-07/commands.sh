# The demo (`cxr-ssl demo --steps 20`) run method by method on 2026-12-07 (main at fe9a20f plus h-report):
# on main a whole `demo` run stopped with exit code 13 after rotation on the loaded machine (the torch
# engine's shutdown; fixed on h-demo), so each pretext run is its own process, with the demo's settings.
C="npx cxr-ssl"
D=out20
$C prepare --sizes 64 --cache-dir $D/cache --seed 0 --name kermany-mini
for m in context jigsaw rotation simclr moco byol dino; do
  $C pretext --method $m --data kermany-mini --size 64 --cache-dir $D/cache --runs-dir $D/runs --epochs 20 --seed 0 --run $m
done
$C linear --encoders context,jigsaw,rotation,simclr,moco,byol,dino,random --data kermany-mini --size 64 --cache-dir $D/cache --runs-dir $D/runs --out $D/eval --seed 0
