"""Writes tests/golden/hf_optimizer/: an HF Trainer checkpoint of a tiny BertForPreTraining after 2 AdamW steps
(config.json, model.safetensors, optimizer.pt as HF saves them), then one more AdamW step done by PyTorch from
that state with the gradients in grads.safetensors at lr in meta.json; expected.safetensors holds the
parameters after it, expected_fused.safetensors those after the same step by optim="adamw_torch_fused" (HF 5's
default) from the same optimizer.pt. The oracle for Optimizer.ContinuesHfTrainerOptimizerBitwise.

Run: ~/.local/share/bertforge/venv/bin/python tools/gen_golden/hf_optimizer.py
"""
import dataclasses
import json
import pathlib
import shutil
import tempfile

import torch
import transformers
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "golden" / "hf_optimizer"
CONFIG = dict(vocab_size=64, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
              max_position_embeddings=32)
LR = 1e-3


def main():
    transformers.set_seed(0)
    model = transformers.BertForPreTraining(transformers.BertConfig(**CONFIG))
    rows = [{"input_ids": [2, 10 + i, 11, 12, 3, 20, 21 + i, 3], "token_type_ids": [0] * 5 + [1] * 3,
             "attention_mask": [1] * 8, "labels": [-100, 10 + i, -100, 12, -100, -100, 21 + i, -100],
             "next_sentence_label": i % 2} for i in range(8)]
    with tempfile.TemporaryDirectory() as tmp:
        args = transformers.TrainingArguments(output_dir=tmp, max_steps=2, save_steps=2, per_device_train_batch_size=4,
                                              learning_rate=LR, weight_decay=0.01, optim="adamw_torch",
                                              lr_scheduler_type="constant", report_to=[], use_cpu=True,
                                              disable_tqdm=True)
        trainer = transformers.Trainer(model=model, args=args, train_dataset=rows)
        trainer.train()
        if OUT.exists():
            shutil.rmtree(OUT)
        OUT.mkdir(parents=True)
        for name in ["config.json", "model.safetensors", "optimizer.pt"]:
            shutil.copy(pathlib.Path(tmp) / "checkpoint-2" / name, OUT / name)

    # One more step from the saved state, by PyTorch, the way HF Trainer would resume it.
    g = torch.Generator().manual_seed(1)
    grads = {}
    for name, p in transformers.BertForPreTraining.from_pretrained(OUT).named_parameters():
        grads[name] = torch.randn(p.shape, generator=g) * 0.1
    save_file(grads, OUT / "grads.safetensors")
    for optim, out in [("adamw_torch", "expected.safetensors"), ("adamw_torch_fused", "expected_fused.safetensors")]:
        model = transformers.BertForPreTraining.from_pretrained(OUT)
        step_args = dataclasses.replace(args, optim=optim)
        optimizer = transformers.Trainer(model=model, args=step_args).create_optimizer()
        optimizer.load_state_dict(torch.load(OUT / "optimizer.pt", weights_only=True))
        for group in optimizer.param_groups:
            group["lr"] = LR
            # load_state_dict takes 'fused' from the saved groups (None: this checkpoint came from adamw_torch),
            # which would silently step single-tensor; a fused run's checkpoint says True.
            group["fused"] = optim.endswith("_fused")
        for name, p in model.named_parameters():
            p.grad = grads[name].clone()
        optimizer.step()
        save_file({n: p.detach().clone() for n, p in model.named_parameters()}, OUT / out)
    (OUT / "meta.json").write_text(json.dumps({
        "generator": "tools/gen_golden/hf_optimizer.py", "lr": LR, "weight_decay": 0.01,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__}}, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
