"""Whole programs: each ``prog_*.py`` runs as written (PyTorch, or Keras on its torch backend) and again with only
its imports switched to ganglion (``programs_harness``); both runs must meet the program's row of checks.

Checks that each run meets alone (``AtLeast``, ``AtMost``, ``Equals``, ``Below``, ``Agree``) say the training worked
(better than chance by a clear margin) and that outputs which must not move did not. ``Near`` and ``Same`` compare
the two runs: loosely for what training reaches from different random starts, to float32 rounding where the program
sets its weights itself (then the numbers are the framework's alone).

To add a program: write ``prog_<name>.py`` for PyTorch or Keras with a ``main()`` returning a dict of plain numbers,
and give it a row here.
"""

import pathlib

import pytest
from program_checks import Agree, AtLeast, AtMost, Below, Equals, Near, Same, failures
from programs_harness import run_program

HERE = pathlib.Path(__file__).resolve().parent

# Keras' torch backend converts torch tensors with np.array(..., copy=False), which NumPy 2 warns about on every
# batch of a reference run: Keras' and PyTorch's affair, not the program's or ganglion's.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy keyword"
                                        ":DeprecationWarning:keras")

PROGRAMS = {
    # the notes' Keras iris MLP: chance is 1/3
    "prog_keras_iris.py": [
        AtLeast("test_accuracy", 0.85), AtMost("train_loss", 0.35), AtMost("test_loss", 0.45),
        Below("train_loss", "first_epoch_loss"), Agree("test_accuracy", "predict_accuracy", 1e-6),
        Near("test_accuracy", 0.1),
    ],
    # the notes' Keras VGG blocks, 25 epochs of fit at batch 64: chance is 1/5
    "prog_keras_vgg.py": [
        Equals("epochs_run", 25), AtMost("train_loss", 0.1), AtLeast("val_accuracy", 0.85),
        AtLeast("test_accuracy", 0.85), Near("test_accuracy", 0.12),
    ],
    # the notes' PyTorch MNIST-style loop: chance is 1/10
    "prog_torch_mnist.py": [
        AtLeast("test_accuracy", 0.8), AtMost("last_epoch_loss", 0.7), Below("last_epoch_loss", "first_epoch_loss"),
        Equals("still_training_mode", False), Near("final_lr", 1e-12), Near("test_accuracy", 0.1),
    ],
    # Keras Conv-BN-Pool under changing batch sizes; fit, predict, fit: chance is 1/3
    "prog_keras_conv_bn_pool.py": [
        Equals("train_steps", 204), AtLeast("accuracy_after_first_fit", 0.85),
        AtLeast("accuracy_after_second_fit", 0.9),
        Agree("accuracy_after_second_fit", "predict_accuracy_after_second_fit", 1e-6),
        AtMost("single_vs_whole", 1e-5), AtMost("odd_batches_vs_whole", 1e-5),
        AtMost("predict_on_batch_vs_whole", 1e-5), AtMost("kept_predictions_changed_by", 0.0),
        AtMost("probabilities_sum_to_one", 1e-5), Near("accuracy_after_second_fit", 0.1),
    ],
    # PyTorch LSTM / bidirectional GRU text classifiers over varying lengths: chance is 1/3
    "prog_torch_rnn_text.py": [
        check
        for model in ("lstm_packed", "bigru_packed", "lstm_same_length")
        for check in (
            AtLeast(f"{model}_accuracy", 0.9), Near(f"{model}_accuracy", 0.1),
            AtMost(f"{model}_kept_outputs_changed_by", 0.0), AtMost(f"{model}_kept_training_outputs_changed_by", 0.0),
            AtMost(f"{model}_gradient_changed_by", 1e-6),
        )
    ],
    # two PyTorch models in two threads == the same two one after the other
    "prog_torch_threads.py": [
        AtMost("digits_threaded_vs_sequential", 0.0), AtMost("iris_threaded_vs_sequential", 0.0),
        AtLeast("digits_accuracy", 0.8), AtLeast("iris_accuracy", 0.85), AtMost("digits_last_loss", 0.3),
        AtMost("iris_last_loss", 0.3), Equals("iris_evaluations", 132), Near("digits_accuracy", 0.1),
        Near("iris_accuracy", 0.1),
    ],
    # Keras Bidirectional(LSTM) with weights set by the program: the numbers are the framework's alone
    "prog_keras_bidirectional.py": [
        Near("length_one_prediction", 1e-5), Near("longer_prediction", 1e-5),
        AtMost("length_one_repeat_vs_first", 0.0), AtMost("batch_of_ones_vs_singly", 1e-6),
        Equals("all_losses_finite", True), Near("train_losses", 1e-4, rtol=1e-4),
        Near("prediction_after_training", 1e-4),
    ],
    # PyTorch conv net and packed bidirectional LSTM from weights the program loads: the numbers are the framework's
    "prog_torch_fixed_weights.py": [
        check
        for model in ("conv", "lstm")
        for check in (
            Near(f"{model}_losses", 1e-5, rtol=1e-5), Near(f"{model}_probe_outputs", 1e-5, rtol=1e-5),
            Near(f"{model}_saved_state", 1e-5, rtol=1e-5), Same(f"{model}_state_keys"),
        )
    ],
    # Keras Embedding(mask_zero=True) -> LSTM on zero-padded sentences
    "prog_keras_masked_text.py": [
        AtMost("padded_vs_unpadded", 1e-5), Near("untrained_padded_prediction", 1e-5),
        AtLeast("test_accuracy", 0.9),
    ],
    # PyTorch regression loop: SGD momentum + weight decay, CosineAnnealingLR / ReduceLROnPlateau, clip_grad_norm_
    "prog_torch_regression.py": [
        AtMost("val_loss", 0.1), AtMost("plateau_val_loss", 0.2), Below("last_epoch_loss", "first_epoch_loss"),
        Below("val_loss", "initial_val_loss"), Agree("final_lr", "expected_final_lr", 1e-9),
        AtLeast("largest_grad_norm_before_clipping", 1.0), Equals("plateau_lr_not_above_start", True),
        Equals("training_mode_after_eval", False), Near("final_lr", 1e-12), Near("val_loss", 0.1),
    ],
    # Keras 3 torch-guide train_step overrides: self.metrics walked by hand, and compute_loss + compute_metrics
    "prog_keras_custom_train_step.py": [
        Below("walking_last_loss", "walking_first_loss"), AtMost("walking_test_loss", 0.6),
        AtMost("walking_last_mae", 0.6), Below("computing_last_loss", "computing_first_loss"),
        AtMost("computing_test_loss", 0.6), Agree("computing_test_mae", "predicted_mae", 1e-4),
        Equals("steps_seen", 64), Same("history_keys"), Near("walking_test_loss", 0.3), Near("computing_test_mae", 0.2),
    ],
    # Keras functional model, two named inputs, a regression head and a classification head: chance is 1/3
    "prog_keras_multi_io.py": [
        Below("last_loss", "first_loss"), AtLeast("test_category_accuracy", 0.8), AtMost("test_price_mae", 0.4),
        Agree("test_category_accuracy", "predicted_accuracy", 1e-6), Agree("test_price_mae", "predicted_price_mae", 1e-4),
        AtMost("weighted_total_vs_parts", 1e-4), Same("history_keys"), Same("evaluate_keys"), Same("output_shapes"),
        Near("test_category_accuracy", 0.1), Near("test_price_mae", 0.15),
    ],
    # Keras Layer subclass (build/add_weight/call/get_config) and a loss function of our own, on two rings: chance 1/2
    "prog_keras_custom_layer.py": [
        Below("test_loss", "untrained_loss"), Below("last_epoch_loss", "first_epoch_loss"),
        AtLeast("test_accuracy", 0.9), Agree("test_loss", "loss_by_hand", 1e-5), AtLeast("scale_moved", 0.01),
        Same("weight_names"), Same("weight_shapes"), Same("trainable_weight_count"), Same("config_units"),
        Near("test_accuracy", 0.08),
    ],
    # PyTorch residual CNN (3x3 convolutions of 32 and 64 channels, batch norm, shortcuts): from weights the program
    # sets, one batch of 32 and one of 7 (the framework's numbers alone); then trained on the digits: chance is 1/5
    "prog_torch_residual_cnn.py": [
        check
        for size in (32, 7)
        for check in (Near(f"fixed_loss_{size}", 1e-5, rtol=1e-5), Near(f"fixed_logits_{size}", 1e-5, rtol=1e-5),
                      Near(f"fixed_grad_norms_{size}", 1e-5, rtol=1e-4))
    ] + [
        Below("last_epoch_loss", "first_epoch_loss"), AtMost("last_epoch_loss", 0.3), AtLeast("test_accuracy", 0.85),
        Near("final_lr", 1e-12), Near("test_accuracy", 0.1),
    ],
    # PyTorch checkpoint dict saved after 3 epochs and resumed in fresh objects == 6 epochs straight
    "prog_torch_checkpoint_resume.py": [
        AtMost("resumed_vs_straight_parameters", 0.0), AtMost("resumed_vs_straight_losses", 0.0),
        AtMost("saved_loss_vs_epoch_3", 0.0), Equals("start_epoch", 3), Near("final_lr", 1e-12),
        Below("last_epoch_loss", "first_epoch_loss"), AtLeast("train_accuracy", 0.8), Near("train_accuracy", 0.1),
    ],
    # PyTorch GAN on a 2-D Gaussian: the generated mean moves to the data mean; the discriminator ends near log 4
    # second derivatives: a WGAN-GP critic trained through its gradient penalty, then Hessian-free Newton steps
    # from weights the program sets (those numbers are the framework's alone)
    "prog_torch_wgan_gp.py": [
        Below("end_distance", "start_distance"), AtMost("end_distance", 0.8), AtLeast("late_grad_norm", 0.6),
        AtMost("late_grad_norm", 1.4), Near("newton_losses", 1e-4, rtol=1e-3), Near("first_hvp", 1e-4, rtol=1e-4),
    ],
    "prog_torch_gan.py": [
        Below("end_distance", "start_distance"), AtMost("end_distance", 1.0), AtLeast("last_d_loss", 1.0),
        AtMost("last_d_loss", 1.6), Equals("discriminator_grads_present", True), Near("last_d_loss", 0.2),
    ],
    # PyTorch DCGAN (ConvTranspose2d / Conv2d, batch norm, in-place ReLU / LeakyReLU, BCELoss, two Adams), batches of
    # 16 and 8, from weights and noise the program draws (those numbers are the framework's alone); weights_init's
    # statistics; trained in one thread while another samples == each alone
    "prog_torch_dcgan.py": [
        AtLeast("init_conv_std", 0.019), AtMost("init_conv_std", 0.021), AtLeast("init_conv_mean", -0.0015),
        AtMost("init_conv_mean", 0.0015), AtLeast("init_bn_scale_mean", 0.98), AtMost("init_bn_scale_mean", 1.02),
        AtLeast("init_bn_scale_std", 0.01), AtMost("init_bn_scale_std", 0.03), AtMost("init_bn_shift_largest", 0.0),
        Equals("iterations", 10), Equals("batch_sizes", [16, 16, 16, 16, 8] * 2), Same("sample_shape"),
        Below("last_errD", "first_errD"), Below("first_D_x", "last_D_x"), Equals("d_step_lowered_fake_scores", True),
        AtMost("threaded_vs_alone", 0.0), AtMost("sampling_threaded_vs_alone", 0.0),
        Equals("sampling_wanted_grad", False),
    ] + [Near(key, 1e-5, rtol=1e-5) for key in ("errD", "errG", "D_x", "D_G_z1", "D_G_z2", "eval_real_scores")] + [
        Near("progress_images", 1e-6, rtol=1e-4), Near("fixed_noise_images", 1e-6, rtol=1e-4),
    ],
    # PyTorch 2-layer bidirectional LSTM over packed batches of 64 (large enough for ganglion to share each layer's
    # rows over its threads): chance is 1/4; trained while another thread evaluates fixed-weights copies; the fixed
    # weights' outputs, states and gradients are the framework's alone
    "prog_torch_wave_lstm.py": [
        AtLeast("test_accuracy", 0.8), Near("test_accuracy", 0.12), Below("last_epoch_loss", "first_epoch_loss"),
        AtLeast("eval_thread_calls", 5), AtMost("eval_thread_moved_by", 0.0), Equals("fixed_padding_is_zero", 1.0),
        Agree("fixed_loss", "fixed_again_loss", 1e-6),
    ] + [Near(key, 1e-5, rtol=1e-5) for key in ("fixed_loss", "fixed_logits_sum", "fixed_output_sum", "fixed_h_sum",
                                                "fixed_c_sum", "fixed_grad_w_ih_l0", "fixed_grad_w_hh_l1_reverse",
                                                "fixed_grad_head")],
    # PyTorch word-level LSTM language model, truncated BPTT with detached hidden state: 15 words, uniform ppl is 15
    "prog_torch_word_lm.py": [
        AtMost("val_ppl", 3.5), Below("val_ppl", "initial_val_ppl"), Below("last_epoch_ppl", "first_epoch_ppl"),
        AtLeast("largest_grad_norm", 0.5), Equals("hidden_requires_grad_after_detach", False), Same("vocabulary"),
        Same("train_columns"), Near("initial_val_ppl", 0.2), Near("val_ppl", 0.6),
    ],
    # Keras Embedding -> GlobalAveragePooling1D -> Dense on texts padded by keras.utils.pad_sequences: chance is 1/2
    "prog_keras_text_pooling.py": [
        AtLeast("test_accuracy", 0.8), AtLeast("post_padding_accuracy", 0.75), AtLeast("last_val_accuracy", 0.75),
        Below("last_epoch_loss", "first_epoch_loss"), AtMost("test_loss", 0.45),
        Agree("test_accuracy", "predicted_accuracy", 1e-6), Same("padded_shape"), Same("padded_dtype"),
        Same("longest_text"), Same("pad_example"), Same("history_keys"), Same("output_shape"),
        Near("test_accuracy", 0.08),
    ],
    # Keras EarlyStopping(restore_best_weights), ModelCheckpoint(save_best_only), ReduceLROnPlateau and CSVLogger
    "prog_keras_callbacks.py": [
        Equals("stopped_early", True), Equals("stopped_epoch_matches", True),
        Equals("best_epoch_is_patience_before_end", True), AtMost("restored_vs_best", 1e-5),
        AtMost("reloaded_vs_best", 1e-5), AtMost("reloaded_vs_restored_predictions", 1e-6),
        Equals("csv_rows_match_epochs", True), AtMost("csv_vs_history_val_loss", 1e-6), Equals("lr_was_reduced", True),
        AtMost("best_val_loss", 1.2), Same("files"), Same("csv_columns"), Same("history_keys"),
        Near("first_lr", 1e-7), Near("best_val_loss", 0.3),
    ],
    # PyTorch TransformerEncoder classifier with a learned positional embedding, "1 before 2?": chance is 1/2
    "prog_torch_transformer.py": [
        AtLeast("test_accuracy", 0.85), Below("last_epoch_loss", "first_epoch_loss"), AtMost("last_epoch_loss", 0.3),
        AtMost("padded_vs_unpadded", 1e-4), Same("parameter_count"), Same("encoder_layers"), Same("logits_shape"),
        Near("test_accuracy", 0.1),
    ],
    # Dive into Deep Learning LeNet from LazyConv2d / LazyLinear, shapes walked on a dummy input: chance is 1/5
    "prog_torch_lazy_lenet.py": [
        AtLeast("test_accuracy", 0.85), Below("last_epoch_loss", "first_epoch_loss"), AtMost("last_epoch_loss", 0.4),
        Same("layer_names"), Same("layer_shapes"), Same("parameter_shapes"), Same("parameter_count"),
        Same("xavier_initialized"), Near("test_accuracy", 0.1),
    ],
    # PyTorch full-batch LBFGS(line_search_fn="strong_wolfe") with a closure: unique optima, so the runs must agree
    "prog_torch_lbfgs.py": [
        AtMost("logistic_gradient_at_end", 1e-4), AtLeast("logistic_accuracy", 0.8), AtLeast("closure_calls", 4),
        AtMost("closure_calls", 3 * 62), AtMost("curve_loss", 1e-10), AtMost("curve_abc_error", 1e-4),
        Below("curve_loss", "curve_initial_loss"), Near("logistic_final_loss", 1e-5, rtol=1e-4),
        Near("logistic_weights", 2e-3), Near("logistic_accuracy", 0.01), Near("curve_initial_loss", 1e-6, rtol=1e-6),
        Near("curve_abc", 1e-4),
    ],
    # Keras functional self-attention block (MultiHeadAttention, Add, LayerNormalization, pooling): chance is 1/3
    "prog_keras_attention.py": [
        AtLeast("test_accuracy", 0.9), AtMost("test_loss", 0.3), Below("last_epoch_loss", "first_epoch_loss"),
        Agree("test_accuracy", "predicted_accuracy", 1e-6), AtMost("attention_scores_sum_to_one", 1e-5),
        Same("layer_names"), Same("attention_weight_shapes"), Same("parameter_count"),
        Same("attention_output_shape"), Same("attention_scores_shape"), Near("test_accuracy", 0.08),
    ],
}

# Bugs found by these programs that are outside issue 11 or 12; each row fails until the bug is fixed (strict).
KNOWN_BUGS = {
}


def _rows():
    for name in PROGRAMS:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])] if name in KNOWN_BUGS else []
        yield pytest.param(name, marks=marks, id=name.removeprefix("prog_").removesuffix(".py"))


def test_every_program_has_a_row():
    on_disk = {path.name for path in HERE.glob("prog_*.py")}
    assert on_disk == set(PROGRAMS), f"programs without a row: {on_disk - set(PROGRAMS)}; rows without a file: " \
                                     f"{set(PROGRAMS) - on_disk}"
    assert set(KNOWN_BUGS) <= set(PROGRAMS)


@pytest.mark.parametrize("name", list(_rows()))
def test_program(name, record_property):
    reference, reference_seconds = run_program(HERE / name, "reference")
    ganglion, ganglion_seconds = run_program(HERE / name, "ganglion")
    record_property("reference_seconds", round(reference_seconds, 2))
    record_property("ganglion_seconds", round(ganglion_seconds, 2))
    print(f"{name}: main() took {reference_seconds:.2f} s as written, {ganglion_seconds:.2f} s on ganglion")
    found = failures(PROGRAMS[name], reference, ganglion)
    assert not found, "\n".join(found) + f"\nreference: {reference}\nganglion: {ganglion}"
