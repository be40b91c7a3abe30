#!/usr/bin/env bash
# Kermany's three classes (NORMAL, bacteria, virus) at 64 px, linear probe, 1/10/100 % of the labels,
# 3 seeds (issue 31). Run from the repository root with ../shared/data and ../shared/weights beside it.
# 2026-12-07, branch h-pool; 2 CPU cores shared with another session: the pretext run took 1.9 minutes
# wall, the evaluation 12.9 minutes (7.0 min user).
set -euo pipefail
export CXR_SSL_PYTHON=${CXR_SSL_PYTHON:-.venv-torch/bin/python}
# 5,840 images: 4,690 train, 526 val (10 % of train, by patient), 624 test; classes from the file names
npx cxr-ssl prepare --source ../shared/data/kermany-pneumonia-224 --adapter folder --name kermany --sizes 64
# the SSL row: rotation continued from ImageNet MobileNetV2-0.35 for 3 epochs (393 steps of 32), the study's lr
npx cxr-ssl import-weights --from tfjs-layers --input ../shared/weights/mobilenetv2-0.35-imagenet-tfjs --encoder mobilenetv2-0.35 --out w/mnv2-imagenet.safetensors
npx cxr-ssl pretext --method rotation --encoder mobilenetv2-0.35 --init w/mnv2-imagenet.safetensors --data kermany --size 64 --epochs 3 --batch-size 32 --lr 0.001 --engine torch --run rotation-imagenet-kermany-64
# random-bn is refused for this architecture (its BatchNorm is folded into the convolutions: nothing to recalibrate)
npx cxr-ssl eval --data kermany --size 64 --encoders random,imagenet,runs/rotation-imagenet-kermany-64 --label rotation-imagenet=runs/rotation-imagenet-kermany-64 --arch mobilenetv2-0.35 --imagenet-weights ../shared/weights/mobilenetv2-0.35-imagenet-tfjs --target classes --protocol linear --fractions 0.01,0.1,1 --seeds 3 --out runs/kermany-classes-64
