# Source me: exports ORT_DYLIB_PATH to the ONNX Runtime library of the project venv's onnxruntime wheel.
# A missing library is an error, not a quiet skip.
_l2_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${ORT_DYLIB_PATH:-}" ]; then
  ORT_DYLIB_PATH=$(ls "$_l2_root"/.venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* 2>/dev/null | head -n 1 || true)
  if [ -z "$ORT_DYLIB_PATH" ]; then
    echo "error: no ONNX Runtime library in $_l2_root/.venv (run: bash scripts/venv.sh)" >&2
    return 1 2>/dev/null || exit 1
  fi
  export ORT_DYLIB_PATH
fi
unset _l2_root
