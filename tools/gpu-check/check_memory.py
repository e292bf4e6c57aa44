#!/usr/bin/env python3
"""Measure the real GPU memory of a Hugging Face transformers inference, for comparison with VramFit.

The model is built from a VramFit catalog entry's config.json (data/models/*.json) with random weights:
nothing is downloaded. One prefill forward and one greedy generate() run on the first CUDA device, and
the peaks PyTorch's caching allocator and NVML saw are written as one JSON line in the validation-case
shape (/work/shared/validation/SCHEMA.md: engine "transformers", hf_config, params, observed).

Example (on a machine with an NVIDIA GPU, torch and transformers installed):
    python tools/gpu-check/check_memory.py --model meta-llama/Llama-3.1-8B --dtype bfloat16 \
        --batch 1 --prompt 2048 --new-tokens 128 --attention sdpa >> gpu-check.jsonl
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
import time

MIB = 1 << 20
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def load_catalog_config(model_id: str) -> dict:
    """Find a catalog entry by id or alias (case-insensitive) and return its published config.json."""
    wanted = model_id.lower()
    for path in sorted(glob.glob(os.path.join(REPO, "data", "models", "*.json"))):
        with open(path, encoding="utf-8") as f:
            entry = json.load(f)
        names = [entry["id"], *entry.get("aliases", [])]
        if any(n.lower() == wanted or n.lower().split("/")[-1] == wanted for n in names):
            return entry
    sys.exit(f"error: '{model_id}' is not in data/models (ids: see 'vramfit models')")


def nvml_used_bytes(index: int) -> int | None:
    """Device-used bytes as NVML reports them (includes the CUDA context), or None without pynvml."""
    try:
        import pynvml  # type: ignore
    except ImportError:
        return None
    pynvml.nvmlInit()
    try:
        return int(pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(index)).used)
    finally:
        pynvml.nvmlShutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="catalog id, e.g. meta-llama/Llama-3.1-8B")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--prompt", type=int, default=1024, help="prompt tokens per sequence")
    parser.add_argument("--new-tokens", type=int, default=64, help="tokens generate() adds (0: forward only)")
    parser.add_argument("--attention", default="sdpa", choices=["eager", "sdpa", "flash_attention_2"])
    parser.add_argument("--layers", type=int, default=None,
                        help="override num_hidden_layers to fit a big model on a small card (recorded in the case)")
    parser.add_argument("--device", type=int, default=0)
    parser.add_argument("--compare", action="store_true",
                        help="also run 'vramfit estimate ... --json' (if the command exists) and print both")
    args = parser.parse_args()

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    if not torch.cuda.is_available():
        print("error: no CUDA device visible to PyTorch; run this on a machine with an NVIDIA GPU", file=sys.stderr)
        return 2

    entry = load_catalog_config(args.model)
    config_dict = dict(entry["config"])
    if args.layers is not None:
        config_dict["num_hidden_layers"] = args.layers
    config = AutoConfig.for_model(**config_dict)
    dtype = getattr(torch, args.dtype)
    device = torch.device("cuda", args.device)
    torch.cuda.set_device(device)

    # The CUDA context is created by the first CUDA call; measure what the device holds before the model.
    torch.cuda.init()
    torch.zeros(1, device=device)
    torch.cuda.synchronize()
    used_before_model = nvml_used_bytes(args.device)

    torch.manual_seed(0)
    started = time.time()
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, torch_dtype=dtype, attn_implementation=args.attention)
    model.eval()
    torch.cuda.synchronize()
    weights_allocated = torch.cuda.memory_allocated(device)

    vocab = int(config_dict.get("vocab_size", 32000))
    input_ids = torch.randint(0, vocab, (args.batch, args.prompt), device=device)
    torch.cuda.reset_peak_memory_stats(device)
    with torch.inference_mode():
        model(input_ids=input_ids, use_cache=True)
    torch.cuda.synchronize()
    forward_peak_allocated = torch.cuda.max_memory_allocated(device)
    forward_peak_reserved = torch.cuda.max_memory_reserved(device)

    generate_peak_allocated = generate_peak_reserved = None
    if args.new_tokens > 0:
        torch.cuda.reset_peak_memory_stats(device)
        with torch.inference_mode():
            model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids), max_new_tokens=args.new_tokens,
                           min_new_tokens=args.new_tokens, do_sample=False, pad_token_id=0)
        torch.cuda.synchronize()
        generate_peak_allocated = torch.cuda.max_memory_allocated(device)
        generate_peak_reserved = torch.cuda.max_memory_reserved(device)
    used_after = nvml_used_bytes(args.device)

    def mib(value):
        return None if value is None else round(value / MIB, 2)

    case = {
        "id": f"transformers-{entry['id'].split('/')[-1].lower()}-{args.dtype}-b{args.batch}-p{args.prompt}-n{args.new_tokens}-{torch.cuda.get_device_name(device).replace(' ', '_')}",
        "engine": "transformers",
        "engine_version": __import__("transformers").__version__,
        "source": "tools/gpu-check/check_memory.py (random weights, torch " + torch.__version__ + ")",
        "gpu": {"name": torch.cuda.get_device_name(device), "count": 1,
                "total_mib": mib(torch.cuda.get_device_properties(device).total_memory)},
        "model": {"hf_config": config_dict, "hf_id": entry["id"]},
        "params": {"dtype": args.dtype, "batch_size": args.batch, "prompt_tokens": args.prompt,
                   "max_new_tokens": args.new_tokens, "attn_implementation": args.attention},
        "observed": {
            "weights_allocated_mib": mib(weights_allocated),
            "forward_peak_allocated_mib": mib(forward_peak_allocated),
            "forward_peak_reserved_mib": mib(forward_peak_reserved),
            "generate_peak_allocated_mib": mib(generate_peak_allocated),
            "generate_peak_reserved_mib": mib(generate_peak_reserved),
        },
        "observed_extra": {
            "nvml_used_before_model_mib": mib(used_before_model),
            "nvml_used_after_mib": mib(used_after),
            "seconds": round(time.time() - started, 1),
        },
        "notes": "layers overridden to %d" % args.layers if args.layers is not None else "",
    }
    print(json.dumps(case))

    if args.compare:
        cmd = ["vramfit", "estimate", entry["id"], "--batch", str(args.batch),
               "--context", str(args.prompt + args.new_tokens), "--dtype", args.dtype.replace("bfloat16", "bf16").replace("float16", "fp16").replace("float32", "fp32"),
               "--attention", "flash" if args.attention == "flash_attention_2" else args.attention, "--json"]
        try:
            estimate = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            print(f"estimate total {estimate.get('totalBytes', 0) / MIB:.0f} MiB vs measured peak reserved "
                  f"{(generate_peak_reserved or forward_peak_reserved) / MIB:.0f} MiB", file=sys.stderr)
        except (OSError, subprocess.CalledProcessError, json.JSONDecodeError) as e:
            print(f"note: could not run {' '.join(cmd)}: {e}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
