/* Configuration files: every malformed input is refused with the file, line,
 * section and key; valid inputs give the values and defaults they should;
 * pd_config_load gives every rank the same bytes. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pd_test.h"
#include "phasediag/base/mem.h"
#include "phasediag/job/config.h"
#include "phasediag/job/confkeys.h"
#include "phasediag/job/conftext.h"
#include "phasediag/job/dataset.h"
#include "phasediag/observe/gridspec.h"

/* Minimal valid grid, lines 1-3. */
#define GRID "[grid]\nwidths = 100, 1000\nschemes = ntk\n"

typedef struct {
  const char *text, *fragment;
} bad_case;

static const bad_case bad_cases[] = {
    /* sections and keys */
    {GRID "[optimizer]\nlr = 1\n",
     "t.ini:4: unknown section [optimizer] (expected data, grid, model, train, "
     "classify, features, spectral, ntk, run or output)"},
    {GRID "[extra]\n", "t.ini:4: unknown section [extra]"},
    {"[grid]\nwidths = 100\nwidth = 100\n",
     "t.ini:3: [grid] unknown key 'width' (expected gamma, gamma_prime, "
     "widths, seeds or schemes)"},
    {GRID "[train]\nprogress_seconds = 1\n",
     "t.ini:5: [train] unknown key 'progress_seconds' (expected tol, "
     "max_steps, lr_cap, lr_grow, lr_shrink, lambda_every, power_iters, "
     "max_rejects, max_rel_step, history_points, integrator, rtol, "
     "stationary_tol or plateau_steps)"},
    {"widths = 100\n" GRID, "t.ini:1: key 'widths' is outside any section"},
    {GRID "widths = 10\n",
     "t.ini:4: [grid] widths: given twice (first on line 2)"},
    /* an indented line is a key of its own, not a continuation */
    {GRID "  widths = 200\n",
     "t.ini:4: [grid] widths: given twice (first on line 2)"},
    /* numbers */
    {GRID "[model]\nbase_scale = abc\n",
     "t.ini:5: [model] base_scale: expected a finite number > 0, got 'abc'"},
    {GRID "[train]\ntol = 1e-6x\n",
     "t.ini:5: [train] tol: expected a finite number > 0, got '1e-6x'"},
    {GRID "[train]\ntol = inf\n",
     "t.ini:5: [train] tol: expected a finite number > 0, got 'inf'"},
    {GRID "[train]\ntol = nan\n", "t.ini:5: [train] tol: expected"},
    {GRID "[train]\ntol =\n",
     "t.ini:5: [train] tol: expected a finite "
     "number > 0, got ''"},
    {"[grid]\nschemes = ntk\nwidths = 100, 200abc\n",
     "t.ini:3: [grid] widths: expected an integer in [2, 2^62], got '200abc'"},
    {"[grid]\nschemes = ntk\nwidths = 100, -100\n",
     "t.ini:3: [grid] widths: expected an integer in [2, 2^62], got '-100'"},
    {"[grid]\nschemes = ntk\nwidths = 100.5\n",
     "t.ini:3: [grid] widths: expected an integer in [2, 2^62], got '100.5'"},
    {"[grid]\nschemes = ntk\nwidths = 1e30\n",
     "t.ini:3: [grid] widths: expected an integer in [2, 2^62], got '1e30'"},
    {"[grid]\nschemes = ntk\nwidths = 9223372036854775808\n",
     "t.ini:3: [grid] widths: expected an integer in [2, 2^62], got "
     "'9223372036854775808'"},
    {"[grid]\nschemes = ntk\nwidths = 0x10\n",
     "t.ini:3: [grid] widths: expected an integer in [2, 2^62], got '0x10'"},
    {"[grid]\nschemes = ntk\nwidths = 100,\n",
     "t.ini:3: [grid] widths: expected an integer in [2, 2^62], got ''"},
    {"[grid]\nschemes = ntk\nwidths =\n",
     "t.ini:3: [grid] widths: expected an integer in [2, 2^62], got ''"},
    {"[grid]\nschemes = ntk\nwidths = 100, 1e2\n",
     "t.ini:3: [grid] widths: '1e2' is listed twice"},
    {"[grid]\nschemes = ntk\nwidths = 100, 101\n",
     "t.ini:3: [grid] widths: 101 is odd, but [model] asi = true pairs "
     "neurons (use even widths or asi = false)"},
    {GRID "seeds = 1, -2\n",
     "t.ini:4: [grid] seeds: expected an integer >= 0, got '-2'"},
    {GRID "seeds = 1, 2, 1\n", "t.ini:4: [grid] seeds: '1' is listed twice"},
    /* gamma lists and ranges */
    {"[grid]\nwidths = 100\ngamma = 0, 1\n",
     "t.ini:3: [grid] gamma: given without gamma_prime (give both gamma and "
     "gamma_prime, or neither)"},
    {"[grid]\nwidths = 100\ngamma_prime = 0\nschemes = he\n",
     "t.ini:3: [grid] gamma_prime: given without gamma"},
    {"[grid]\nwidths = 100\ngamma = 0:1:0\ngamma_prime = 0\n",
     "t.ini:3: [grid] gamma: expected start:stop:step with step > 0 (step < 0 "
     "if stop < start), got '0:1:0'"},
    {"[grid]\nwidths = 100\ngamma = 0\ngamma_prime = 1:0:0.5\n",
     "t.ini:4: [grid] gamma_prime: expected start:stop:step with step > 0"},
    {"[grid]\nwidths = 100\ngamma = 1:1.0000000000000002:1e-16\n"
     "gamma_prime = 0\n",
     "t.ini:3: [grid] gamma: expected start:stop:step with distinct values"},
    {"[spectral]\nenabled = true\nmethods = dft, fft\n[grid]\nwidths = "
     "100\nschemes = ntk\n",
     "t.ini:3: [spectral] methods: expected dft, projection, filter or grid, "
     "got 'fft'"},
    {"[data]\nbuiltin = sines\nd = 2\n[spectral]\nenabled = true\nmethods = "
     "dft\n[grid]\nwidths = 100\nschemes = ntk\n",
     "t.ini:6: [spectral] methods: dft needs 1-D inputs, but d = 2"},
    {"[data]\nbuiltin = parity\ntest = grid\n[grid]\nwidths = 100\nschemes "
     "= ntk\n",
     "t.ini:3: [data] test = grid: needs a 1-D built-in target"},
    {"[data]\ntest_n = 10\n[grid]\nwidths = 100\nschemes = ntk\n",
     "t.ini:2: [data] test_n: given, but there is no test set"},
    {"[spectral]\npeaks = 4\n[grid]\nwidths = 100\nschemes = ntk\n",
     "t.ini:2: [spectral] peaks: given, but [spectral] enabled is not true"},
    {"[data]\nbuiltin = sines\nfrequencies = 1, 2\n[grid]\nwidths = 100\n"
     "schemes = ntk\n",
     "t.ini:3: [data] frequencies: applies only to builtin = harmonics"},
    {"[grid]\nwidths = 100\ngamma = 0:1\ngamma_prime = 0\n",
     "t.ini:3: [grid] gamma: expected start:stop:step of finite numbers, got "
     "'0:1'"},
    {"[grid]\nwidths = 100\ngamma = 0:1:0.5:2\ngamma_prime = 0\n",
     "t.ini:3: [grid] gamma: expected start:stop:step of finite numbers"},
    {"[grid]\nwidths = 100\ngamma = 0:2000:1\ngamma_prime = 0\n",
     "t.ini:3: [grid] gamma: expected a range of at most 1024 values, got "
     "'0:2000:1'"},
    {"[grid]\nwidths = 100\ngamma = 0:1:0.5, 3\ngamma_prime = 0\n",
     "t.ini:3: [grid] gamma: expected a comma list of finite numbers or "
     "start:stop:step"},
    {"[grid]\nwidths = 100\ngamma = 0, x\ngamma_prime = 0\n",
     "t.ini:3: [grid] gamma: expected a finite number (or start:stop:step), "
     "got 'x'"},
    {"[grid]\nwidths = 100\ngamma = 0.5, 5e-1\ngamma_prime = 0\n",
     "t.ini:3: [grid] gamma: '5e-1' is listed twice"},
    {"[grid]\nwidths = 100\n",
     "t.ini: [grid]: no points: give gamma and gamma_prime, or schemes"},
    {"[grid]\nschemes = ntk\n", "t.ini: [grid] widths: required key missing"},
    {"", "t.ini: [grid] widths: required key missing"},
    /* names and bools */
    {GRID "[model]\nasi = maybe\n",
     "t.ini:5: [model] asi: expected true or false (or yes/no, on/off, 1/0), "
     "got 'maybe'"},
    {"[grid]\nwidths = 100\nschemes = ntk, glorot\n",
     "t.ini:3: [grid] schemes: expected ntk, mean_field, xavier, lecun or he, "
     "got 'glorot'"},
    {"[grid]\nwidths = 100\nschemes = grid\n",
     "t.ini:3: [grid] schemes: expected ntk, mean_field, xavier, lecun or he, "
     "got 'grid'"},
    {"[grid]\nwidths = 100\nschemes = he, ntk, he\n",
     "t.ini:3: [grid] schemes: 'he' is listed twice"},
    /* data sources */
    {"[data]\nsource = csv\n" GRID,
     "t.ini:2: [data] source: expected builtin, hdf5 or idx, got 'csv'"},
    {"[data]\nbuiltin = circle\n" GRID,
     "t.ini:2: [data] builtin: expected paper1d, sines, relu_mix, harmonics, "
     "parity or zhou2022, got "
     "'circle'"},
    {"[data]\nfile = x.h5\n" GRID,
     "t.ini:2: [data] file: applies only to source = hdf5, but source = "
     "builtin (the default)"},
    {"[data]\nsource = hdf5\nfile = a.h5\nimages = x\n" GRID,
     "t.ini:4: [data] images: applies only to source = idx, but source = "
     "hdf5 (line 2)"},
    {"[data]\nbuiltin = relu_mix\nfile = a.h5\n" GRID,
     "t.ini:3: [data] file: applies only to source = hdf5, but source = "
     "builtin"},
    {"[data]\nd = 3\n" GRID,
     "t.ini:2: [data] d: applies only to builtin = sines, relu_mix, harmonics, "
     "parity or zhou2022, but "
     "builtin = paper1d (the default)"},
    {"[data]\nn = 10\nbuiltin = paper1d\n" GRID,
     "t.ini:2: [data] n: applies only to builtin = sines, relu_mix, harmonics, "
     "parity or zhou2022, or "
     "source = idx, but builtin = paper1d (line 3)"},
    {"[data]\nsource = idx\nd = 3\n" GRID,
     "t.ini:3: [data] d: applies only to builtin = sines, relu_mix, harmonics, "
     "parity or zhou2022, but "
     "source = idx (line 2)"},
    {"[data]\ndata_seed = 4\nsource = idx\n" GRID,
     "t.ini:2: [data] data_seed: applies only to builtin = sines, "
     "relu_mix, harmonics, parity or zhou2022, but source = idx (line 3)"},
    {"[data]\nsource = idx\nbuiltin = sines\n" GRID,
     "t.ini:3: [data] builtin: applies only to source = builtin, but source "
     "= idx (line 2)"},
    {"[data]\nsource = hdf5\n" GRID,
     "t.ini: [data] file: required key missing"},
    {"[data]\nsource = idx\nn = 70001\n" GRID,
     "t.ini:3: [data] n: expected an integer in [1, 70000] for source = idx, "
     "got '70001'"},
    {"[data]\nbuiltin = sines\nn = 0\n" GRID,
     "t.ini:3: [data] n: expected an integer >= 1, got '0'"},
    {"[data]\nbuiltin = sines\nd = 1048577\n" GRID,
     "t.ini:3: [data] d: expected an integer in [1, 2^20], got '1048577'"},
    {"[data]\nbuiltin = sines\ndata_seed = -1\n" GRID,
     "t.ini:3: [data] data_seed: expected an integer >= 0, got '-1'"},
    {"[data]\nsource = hdf5\nfile =\n" GRID,
     "t.ini:3: [data] file: expected a path, got ''"},
    {"[data]\nx_dataset = inputs\n" GRID,
     "t.ini:2: [data] x_dataset: applies only to source = hdf5, but source = "
     "builtin (the default)"},
    {"[data]\nsource = idx\ny_dataset = targets\n" GRID,
     "t.ini:3: [data] y_dataset: applies only to source = hdf5, but source = "
     "idx (line 2)"},
    {"[data]\nsource = hdf5\nfile = a.h5\nx_dataset =\n" GRID,
     "t.ini:4: [data] x_dataset: expected a path, got ''"},
    {"[data]\nsource = hdf5\nfile = a.h5\nx_dataset = /y\n" GRID,
     "t.ini:4: [data] x_dataset and y_dataset: both name the dataset /y"},
    {"[data]\nsource = hdf5\nfile = a.h5\nx_dataset = v\ny_dataset = v\n" GRID,
     "t.ini:5: [data] x_dataset and y_dataset: both name the dataset /v"},
    {"[data]\nsource = hdf5\nfile = a.h5\ndataset = v\n" GRID,
     "t.ini:4: [data] unknown key 'dataset' (expected source, builtin, n, d, "
     "data_seed, file, x_dataset, y_dataset, images, labels, frequencies, "
     "sampling, test or test_n)"},
    /* the other sections' ranges */
    {GRID "[model]\nbase_scale = 0\n",
     "t.ini:5: [model] base_scale: expected a finite number > 0, got '0'"},
    {GRID "[model]\nactivation = gelu\n",
     "t.ini:5: [model] activation: expected relu, tanh, sigmoid, softplus, "
     "xtanh, srelu or phi3, got 'gelu'"},
    {GRID "[model]\nactivations = relu\n",
     "t.ini:5: [model] unknown key 'activations' (expected asi, base_scale, "
     "activation or span)"},
    {GRID "[spectral]\nenabled = true\nfrequencies = 1\n",
     "t.ini:6: [spectral] unknown key 'frequencies'"},
    {"[data]\nbuiltin = harmonics\nfrequencies = "
     "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17\n" GRID,
     "t.ini:3: [data] frequencies: expected at most 16 values"},
    {"[data]\nbuiltin = harmonics\nfrequencies = 1, 1048577\n" GRID,
     "t.ini:3: [data] frequencies: expected an integer in [1, 2^20], got "
     "'1048577'"},
    {GRID "[spectral]\nenabled = true\ndeltas = 1, 0\n",
     "t.ini:6: [spectral] deltas: expected a finite number > 0, got '0'"},
    {GRID "[spectral]\nenabled = true\ndeltas = 2, 2e0\n",
     "t.ini:6: [spectral] deltas: '2e0' is listed twice"},
    {GRID "[spectral]\nenabled = true\nmethods = filter, filter\n",
     "t.ini:6: [spectral] methods: 'filter' is listed twice"},
    {GRID "[spectral]\nenabled = true\nmax_freq = -1\n",
     "t.ini:6: [spectral] max_freq: expected an integer in [0, 2^20] (0 = n / "
     "2), got '-1'"},
    {GRID "[spectral]\nenabled = true\ngrid_method = all\n",
     "t.ini:6: [spectral] grid_method: expected auto, gather or reduce, got "
     "'all'"},
    {GRID "[run]\ngroup_size = 2147483648\n",
     "t.ini:5: [run] group_size: expected an integer >= 0 (0 = automatic), "
     "got '2147483648'"},
    {GRID "[output]\nfile = \"a.h5\n",
     "t.ini:5: [output] file: expected a path (quotes only as a matching "
     "pair), got '\"a.h5'"},
    {GRID "[train]\nmax_steps = -1\n",
     "t.ini:5: [train] max_steps: expected an integer >= 0, got '-1'"},
    {GRID "[train]\nlr_cap = 2\n",
     "t.ini:5: [train] lr_cap: expected a number in (0, 2), got '2'"},
    {GRID "[train]\nlr_grow = 0.9\n",
     "t.ini:5: [train] lr_grow: expected a number in [1, 10], got '0.9'"},
    {GRID "[train]\nlr_shrink = 1\n",
     "t.ini:5: [train] lr_shrink: expected a number in (0, 1), got '1'"},
    {GRID "[train]\nlambda_every = 0\n",
     "t.ini:5: [train] lambda_every: expected an integer >= 1, got '0'"},
    {GRID "[train]\npower_iters = 1001\n",
     "t.ini:5: [train] power_iters: expected an integer in [1, 1000], got "
     "'1001'"},
    {GRID "[train]\nmax_rejects = 0\n",
     "t.ini:5: [train] max_rejects: expected an integer in [1, 1000], got "
     "'0'"},
    {GRID "[train]\nhistory_points = 1\n",
     "t.ini:5: [train] history_points: expected an integer in [2, 100000], "
     "got '1'"},
    {GRID "[classify]\nband = -0.1\n",
     "t.ini:5: [classify] band: expected a finite number >= 0, got '-0.1'"},
    {GRID "[features]\ncap = 0\n",
     "t.ini:5: [features] cap: expected an integer in [1, 1000000], got '0'"},
    {GRID "[features]\namp_cut = 0.2\n",
     "t.ini:5: [features] amp_cut: given, but [features] track is not true"},
    {GRID "[features]\ntrack = true\nmatrix = 1\n",
     "t.ini:6: [features] matrix: expected an integer in [2, 1024], got '1'"},
    {GRID "[features]\ntrack = true\n[spectral]\npeaks = 3\n",
     "t.ini:7: [spectral] peaks: given, but [spectral] enabled is not true"},
    {GRID "[features]\ncos_threshold = 1\n",
     "t.ini:5: [features] cos_threshold: expected a number in (0, 1), got "
     "'1'"},
    {GRID "[run]\ngroup_size = -1\n",
     "t.ini:5: [run] group_size: expected an integer >= 0 (0 = automatic), "
     "got '-1'"},
    {GRID "[run]\ncheckpoint_interval = -1\n",
     "t.ini:5: [run] checkpoint_interval: expected a number of seconds in [0, "
     "1e9] (0 = off), got '-1'"},
    {GRID "[run]\ncheckpoint_interval = soon\n",
     "t.ini:5: [run] checkpoint_interval: expected a number of seconds in [0, "
     "1e9] (0 = off), got 'soon'"},
    {GRID "[run]\ncheckpoint =\n",
     "t.ini:5: [run] checkpoint: expected a path, got ''"},
    {GRID "[output]\nfile =\n",
     "t.ini:5: [output] file: expected a path, got ''"},
    {GRID "[output]\noverwrite = 2\n",
     "t.ini:5: [output] overwrite: expected true or false"},
    /* syntax */
    {"[grid]\nwidths 100\n",
     "t.ini:2: syntax error: expected 'key = value' or '[section]'"},
    {"[grid] widths = 100\n",
     "t.ini:1: syntax error: expected 'key = value' or '[section]'"},
    {"[grid\nwidths = 100\n",
     "t.ini:1: syntax error: expected 'key = value' or '[section]'"},
    /* the first error is the one reported, whoever finds it */
    {"[grid]\nbogus\nwidths = -1\n", "t.ini:2: syntax error"},
    {"[grid]\nwidths = -1\nbogus\n", "t.ini:2: [grid] widths: expected"},
    {"[grid]\r\nschemes = ntk\r\nwidths = 1\r\n",
     "t.ini:3: [grid] widths: expected an integer in [2, 2^62], got '1'"},
};

/* The message's first line holds the fragment and no second error. */
static void check_bad(const char *text, const char *fragment) {
  pd_config cfg;
  int err = pd_config_parse("t.ini", text, &cfg);
  const char *msg = pd_error_message();
  size_t first = strcspn(msg, "\n");
  const char *hit = strstr(msg, fragment);
  PD_TEST_CHECK(
      err == PD_ERR_CONFIG && hit && hit + strlen(fragment) <= msg + first,
      "config:\n%s\nerror %d, want '%s', got:\n%s", text, err, fragment, msg);
}

static void test_bad(void) {
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
    check_bad(bad_cases[i].text, bad_cases[i].fragment);

  /* only the first of two errors is kept */
  pd_config cfg;
  pd_config_parse("t.ini", GRID "[model]\nasi = x\nbase_scale = y\n", &cfg);
  PD_TEST_CHECK(strstr(pd_error_message(), "t.ini:5: [model] asi") &&
                    !strstr(pd_error_message(), "base_scale"),
                "two errors: %s", pd_error_message());

  /* lines of 199 characters are fine, 200 are too long (inih's buffer) */
  char text[512], line[256];
  memset(line, 'x', sizeof line);
  line[0] = ';';
  line[199] = '\0';
  snprintf(text, sizeof text, GRID "%s\n[model]\n", line);
  PD_TEST_CHECK(pd_config_parse("t.ini", text, &cfg) == PD_OK,
                "199 characters: %s", pd_error_message());
  line[199] = 'x';
  line[200] = '\0';
  snprintf(text, sizeof text, GRID "%s\n[model]\n", line);
  check_bad(text, "t.ini:4: line too long, at most 199 characters");
  /* also without a final newline, and on a value line */
  snprintf(text, sizeof text, GRID "%s", line);
  check_bad(text, "t.ini:4: line too long, at most 199 characters");
  snprintf(text, sizeof text, "[output]\nfile = %s\n" GRID, line);
  check_bad(text, "t.ini:2: line too long, at most 199 characters");

  PD_TEST_CHECK(pd_config_parse(NULL, GRID, &cfg) == PD_ERR_ARG,
                "NULL path accepted");
}

static void test_ranges(void) {
  pd_config c;
  PD_TEST_OK(pd_config_parse("t.ini",
                             "[grid]\n"
                             "gamma = 0.25:2:0.25\n"
                             "gamma_prime = -1:1:0.1\n"
                             "widths = 1e4, 100000, 250, 4611686018427387904\n",
                             &c));
  PD_TEST_CHECK(c.ngamma == 8 && c.gamma[7] == 2.0,
                "0.25:2:0.25: %d, last %.17g", c.ngamma, c.gamma[c.ngamma - 1]);
  for (int i = 0; i < c.ngamma; i++)
    PD_TEST_CHECK(c.gamma[i] == 0.25 * (i + 1), "gamma[%d] = %.17g", i,
                  c.gamma[i]);
  PD_TEST_CHECK(c.ngamma_prime == 21 && c.gamma_prime[0] == -1.0 &&
                    c.gamma_prime[20] == 1.0 && fabs(c.gamma_prime[10]) < 1e-15,
                "-1:1:0.1: %d values", c.ngamma_prime);
  for (int i = 0; i < c.ngamma_prime; i++)
    PD_TEST_CHECK(fabs(c.gamma_prime[i] - (-1.0 + 0.1 * i)) < 1e-15,
                  "gamma_prime[%d] = %.17g", i, c.gamma_prime[i]);
  PD_TEST_CHECK(c.nwidths == 4 && c.widths[0] == 10000 &&
                    c.widths[1] == 100000 && c.widths[2] == 250 &&
                    c.widths[3] == INT64_C(1) << 62,
                "widths: %d", c.nwidths);
  PD_TEST_CHECK(c.nschemes == 0 && c.nseeds == 1 && c.seeds[0] == 1,
                "schemes %d seeds %d", c.nschemes, c.nseeds);

  /* 0.3 / 0.1 is 2.9999999999999996: stop is still included, exactly */
  PD_TEST_OK(pd_config_parse("t.ini",
                             "[grid]\nwidths = 100\ngamma = 0:0.3:0.1\n"
                             "gamma_prime = 1:0:-0.25\n",
                             &c));
  PD_TEST_CHECK(c.ngamma == 4 && c.gamma[3] == 0.3, "0:0.3:0.1: %d, last %.17g",
                c.ngamma, c.gamma[c.ngamma - 1]);
  PD_TEST_CHECK(c.ngamma_prime == 5 && c.gamma_prime[0] == 1.0 &&
                    c.gamma_prime[1] == 0.75 && c.gamma_prime[4] == 0.0,
                "1:0:-0.25: %d", c.ngamma_prime);
  /* a step that does not reach stop, a single point, a comma list */
  PD_TEST_OK(pd_config_parse("t.ini",
                             "[grid]\nwidths = 100\ngamma = 0:1:0.3\n"
                             "gamma_prime = 2:2:1\n",
                             &c));
  PD_TEST_CHECK(c.ngamma == 4 && fabs(c.gamma[3] - 0.9) < 1e-15 &&
                    c.ngamma_prime == 1 && c.gamma_prime[0] == 2.0,
                "0:1:0.3: %d, 2:2:1: %d", c.ngamma, c.ngamma_prime);
  PD_TEST_OK(pd_config_parse("t.ini",
                             "[grid]\nwidths = 100\ngamma =  -0.5 ,1e-3,  2 \n"
                             "gamma_prime = 0:1023:1\n",
                             &c));
  PD_TEST_CHECK(c.ngamma == 3 && c.gamma[0] == -0.5 && c.gamma[1] == 1e-3 &&
                    c.gamma[2] == 2.0 && c.ngamma_prime == 1024 &&
                    c.gamma_prime[1023] == 1023.0,
                "list: %d, 0:1023:1: %d", c.ngamma, c.ngamma_prime);
}

static void test_defaults(void) {
  pd_config c, want;
  PD_TEST_OK(pd_config_parse("dir/t.ini", GRID, &c));
  pd_config_defaults(&want);
  PD_TEST_CHECK(strcmp(c.path, "dir/t.ini") == 0, "path '%s'", c.path);
  PD_TEST_CHECK(c.nwidths == 2 && c.widths[0] == 100 && c.widths[1] == 1000 &&
                    c.nschemes == 1 && c.schemes[0] == PD_SCHEME_NTK &&
                    c.ngamma == 0 && c.ngamma_prime == 0,
                "grid: %d widths, %d schemes", c.nwidths, c.nschemes);
  PD_TEST_CHECK(c.source == PD_DATA_BUILTIN &&
                    strcmp(c.builtin, "paper1d") == 0 && c.n == 0 && c.d == 0 &&
                    c.data_seed == 1 && c.data_file[0] == '\0',
                "data defaults: source %d builtin %s", c.source, c.builtin);
  PD_TEST_CHECK(strcmp(c.x_dataset, "x") == 0 && strcmp(c.y_dataset, "y") == 0,
                "hdf5 dataset defaults: '%s' '%s'", c.x_dataset, c.y_dataset);
  PD_TEST_CHECK(strcmp(c.images, PD_FASHION_MNIST_DIR
                       "/train-images-idx3-ubyte.gz") == 0 &&
                    strcmp(c.labels, PD_FASHION_MNIST_DIR
                           "/train-labels-idx1-ubyte.gz") == 0,
                "idx defaults: %s %s", c.images, c.labels);
  pd_train_options t;
  pd_train_options_default(&t);
  PD_TEST_CHECK(c.train.tol == t.tol && c.train.max_steps == t.max_steps &&
                    c.train.lr_cap == t.lr_cap &&
                    c.train.lr_grow == t.lr_grow &&
                    c.train.lr_shrink == t.lr_shrink &&
                    c.train.lambda_every == t.lambda_every &&
                    c.train.power_iters == t.power_iters &&
                    c.train.max_rejects == t.max_rejects &&
                    c.train.history_points == t.history_points &&
                    c.train.progress_seconds == t.progress_seconds,
                "train defaults differ from pd_train_options_default");
  PD_TEST_CHECK(c.nseeds == 1 && c.seeds[0] == 1 && c.asi == 1 &&
                    c.base_scale == 1.0 && c.band == 0.1 &&
                    c.feature_cap == 256 && c.cos_threshold == 0.99 &&
                    c.group_size == 0 && c.checkpoint[0] == '\0' &&
                    c.checkpoint_interval == 600 &&
                    strcmp(c.output, "phasediag.h5") == 0 && c.overwrite == 0 &&
                    strcmp(c.activation, "relu") == 0,
                "other defaults");
  /* nothing else differs from the defaults, padding included */
  memcpy(want.path, c.path, sizeof want.path);
  want.nwidths = 2;
  want.widths[0] = 100;
  want.widths[1] = 1000;
  want.nschemes = 1;
  want.schemes[0] = PD_SCHEME_NTK;
  PD_TEST_CHECK(memcmp(&want, &c, sizeof c) == 0, "bytes differ from defaults");
}

static void test_all_keys(void) {
  const char *text =
      "; every key\n"
      "[data]\n"
      "source = builtin\n"
      "builtin = sines\n"
      "n = 1e3\n"
      "d = 7\n"
      "data_seed = 42\n"
      "[grid]\n"
      "gamma = 0.5, 1.5\n"
      "gamma_prime = -0.5\n"
      "widths = 64, 128\n"
      "seeds = 0, 18, 9223372036854775807\n"
      "schemes = ntk, mean_field, xavier, lecun, he\n"
      "[model]\n"
      "asi = no\n"
      "base_scale = 0.5\n"
      "activation = relu\n"
      "[train]\n"
      "tol = 1e-8\n"
      "max_steps = 0\n"
      "lr_cap = 1.9\n"
      "lr_grow = 10\n"
      "lr_shrink = 0.25\n"
      "lambda_every = 5\n"
      "power_iters = 1000\n"
      "max_rejects = 1\n"
      "history_points = 100000\n"
      "[classify]\n"
      "band = 0\n"
      "[features]\n"
      "cap = 1000000\n"
      "cos_threshold = 0.5\n"
      "[run]\n"
      "group_size = 3\n"
      "[output]\n"
      "file = out/scan.h5\n"
      "overwrite = ON\n";
  pd_config c;
  PD_TEST_OK(pd_config_parse("t.ini", text, &c));
  PD_TEST_CHECK(c.source == PD_DATA_BUILTIN &&
                    strcmp(c.builtin, "sines") == 0 && c.n == 1000 &&
                    c.d == 7 && c.data_seed == 42,
                "data: %s n %lld d %d seed %llu", c.builtin, (long long)c.n,
                c.d, (unsigned long long)c.data_seed);
  PD_TEST_CHECK(c.ngamma == 2 && c.gamma[0] == 0.5 && c.gamma[1] == 1.5 &&
                    c.ngamma_prime == 1 && c.gamma_prime[0] == -0.5 &&
                    c.nwidths == 2 && c.widths[0] == 64 && c.widths[1] == 128,
                "grid numbers");
  PD_TEST_CHECK(c.nseeds == 3 && c.seeds[0] == 0 && c.seeds[1] == 18 &&
                    c.seeds[2] == UINT64_C(9223372036854775807),
                "seeds: %d", c.nseeds);
  PD_TEST_CHECK(c.nschemes == 5 && c.schemes[0] == PD_SCHEME_NTK &&
                    c.schemes[1] == PD_SCHEME_MEAN_FIELD &&
                    c.schemes[2] == PD_SCHEME_XAVIER &&
                    c.schemes[3] == PD_SCHEME_LECUN &&
                    c.schemes[4] == PD_SCHEME_HE,
                "schemes: %d", c.nschemes);
  PD_TEST_CHECK(
      c.asi == 0 && c.base_scale == 0.5 && strcmp(c.activation, "relu") == 0,
      "model");
  PD_TEST_CHECK(c.train.tol == 1e-8 && c.train.max_steps == 0 &&
                    c.train.lr_cap == 1.9 && c.train.lr_grow == 10 &&
                    c.train.lr_shrink == 0.25 && c.train.lambda_every == 5 &&
                    c.train.power_iters == 1000 && c.train.max_rejects == 1 &&
                    c.train.history_points == 100000,
                "train");
  PD_TEST_CHECK(c.band == 0 && c.feature_cap == 1000000 &&
                    c.cos_threshold == 0.5 && c.group_size == 3 &&
                    strcmp(c.output, "out/scan.h5") == 0 && c.overwrite == 1,
                "classify, features, run, output");

  PD_TEST_OK(pd_config_parse("t.ini",
                             "[data]\nsource = idx\nn = 1000\n"
                             "images = /d/i.gz\nlabels = /d/l\n" GRID,
                             &c));
  PD_TEST_CHECK(c.source == PD_DATA_IDX && c.n == 1000 &&
                    strcmp(c.images, "/d/i.gz") == 0 &&
                    strcmp(c.labels, "/d/l") == 0,
                "idx: %s %s", c.images, c.labels);
  PD_TEST_OK(pd_config_parse(
      "t.ini", "[data]\nsource = hdf5\nfile = my data.h5\n" GRID, &c));
  PD_TEST_CHECK(
      c.source == PD_DATA_HDF5 && strcmp(c.data_file, "my data.h5") == 0,
      "hdf5: %s", c.data_file);
  PD_TEST_OK(pd_config_parse("t.ini",
                             "[data]\nsource = hdf5\nfile = d.h5\n"
                             "x_dataset = train/inputs\n"
                             "y_dataset = \"/train/the targets\"\n" GRID,
                             &c));
  PD_TEST_CHECK(strcmp(c.x_dataset, "train/inputs") == 0 &&
                    strcmp(c.y_dataset, "/train/the targets") == 0,
                "hdf5 datasets: '%s' '%s'", c.x_dataset, c.y_dataset);
  PD_TEST_OK(pd_config_parse(
      "t.ini", "[data]\nbuiltin = relu_mix\nn = 100000\n" GRID, &c));
  PD_TEST_CHECK(strcmp(c.builtin, "relu_mix") == 0 && c.n == 100000,
                "relu_mix");
  /* odd widths are fine without ASI */
  PD_TEST_OK(pd_config_parse(
      "t.ini", "[grid]\nwidths = 101, 3\nschemes = he\n[model]\nasi = false\n",
      &c));
  PD_TEST_CHECK(c.nwidths == 2 && c.widths[0] == 101 && c.asi == 0, "odd");

  const char *bools[] = {"true",  "yes", "on",  "1", "TRUE",
                         "false", "no",  "off", "0", "Off"};
  for (int i = 0; i < 10; i++) {
    char t[128];
    snprintf(t, sizeof t, GRID "[output]\noverwrite = %s\n", bools[i]);
    int err = pd_config_parse("t.ini", t, &c);
    PD_TEST_CHECK(err == PD_OK && c.overwrite == (i < 5), "bool %s: %s",
                  bools[i], pd_error_message());
  }
}

static void test_comments(void) {
  const char *text =
      "\xEF\xBB\xBF; leading comment\r\n"
      "# hash comment\r\n"
      "\r\n"
      "[grid]   ; section comment\r\n"
      "  widths = 100 , 200   # inline hash\r\n"
      "\tschemes = he ; inline semicolon\r\n"
      "[model] # another\r\n"
      "  ; indented comment\r\n"
      "asi = off\r\n"
      "[output]\n"
      "file = a#b.h5 ; '#' inside a word stays\n"
      "[grid]\n"
      "seeds = 5";
  pd_config c;
  int err = pd_config_parse("t.ini", text, &c);
  PD_TEST_CHECK(err == PD_OK, "comments: %s", pd_error_message());
  PD_TEST_CHECK(c.nwidths == 2 && c.widths[0] == 100 && c.widths[1] == 200 &&
                    c.nschemes == 1 && c.schemes[0] == PD_SCHEME_HE &&
                    c.asi == 0 && strcmp(c.output, "a#b.h5") == 0 &&
                    c.nseeds == 1 && c.seeds[0] == 5,
                "comments: widths %d schemes %d asi %d output '%s'", c.nwidths,
                c.nschemes, c.asi, c.output);
}

/* ---- the key table ------------------------------------------------------- */

/* A choice key's i-th name stands for the value the code expects. */
static void check_choice(int key, int value, const char *name) {
  const pd_confkey *k = pd_confkey_get(key);
  PD_TEST_CHECK(k && pd_confkey_choice(k, value - k->first) &&
                    strcmp(pd_confkey_choice(k, value - k->first), name) == 0,
                "[%s] %s: %d is not '%s'",
                k ? pd_confkey_section(k->section) : "?", k ? k->name : "?",
                value, name);
}

static void test_table(void) {
  PD_TEST_OK(pd_confkeys_self_check());
  pd_config c;
  pd_config_defaults(&c);
  PD_TEST_OK(pd_confkeys_check(&c));
  pd_train_options t;
  pd_train_options_default(&t);
  PD_TEST_OK(pd_train_options_check(&t));
  /* the ranges of pd_train_options are the keys' */
  t.history_points = 100001;
  PD_TEST_CHECK(pd_train_options_check(&t) == PD_ERR_ARG &&
                    strstr(pd_error_message(),
                           "[train] history_points = 100001: expected an "
                           "integer in [2, 100000]"),
                "history_points: %s", pd_error_message());
  pd_train_options_default(&t);
  t.lr_cap = 2;
  PD_TEST_CHECK(pd_train_options_check(&t) == PD_ERR_ARG &&
                    strstr(pd_error_message(),
                           "[train] lr_cap = 2: expected a number in (0, 2)"),
                "lr_cap: %s", pd_error_message());
  pd_train_options_default(&t);
  t.snapshots = -1;
  PD_TEST_CHECK(pd_train_options_check(&t) == PD_ERR_ARG &&
                    strstr(pd_error_message(), "[spectral] snapshots = -1"),
                "snapshots: %s", pd_error_message());
  pd_train_options_default(&t);
  t.progress_seconds = -1;
  PD_TEST_CHECK(pd_train_options_check(&t) == PD_ERR_ARG &&
                    strstr(pd_error_message(), "progress_seconds"),
                "progress_seconds: %s", pd_error_message());
  c.cos_threshold = 1;
  PD_TEST_CHECK(pd_confkeys_check(&c) == PD_ERR_ARG &&
                    strstr(pd_error_message(), "[features] cos_threshold = 1"),
                "cos_threshold: %s", pd_error_message());
  /* choices stand for the values of the code's enums */
  check_choice(PD_K_SOURCE, PD_DATA_IDX, "idx");
  check_choice(PD_K_SAMPLING, PD_SAMPLING_RANDOM, "random");
  check_choice(PD_K_TEST, PD_TEST_HOLDOUT, "holdout");
  check_choice(PD_K_SP_GRID_METHOD, PD_GRIDSPEC_REDUCE, "reduce");
  check_choice(PD_K_SCHEMES, PD_SCHEME_LECUN, "lecun");
  const char *bits[] = {"dft", "projection", "filter", "grid"};
  const int want[] = {PD_SP_DFT, PD_SP_PROJECTION, PD_SP_FILTER, PD_SP_GRID};
  for (int i = 0; i < 4; i++) {
    check_choice(PD_K_SP_METHODS, i, bits[i]);
    PD_TEST_CHECK(want[i] == 1 << i, "%s is not bit %d", bits[i], i);
  }
  /* one list of built-in sets: the parser takes each, the loader knows it */
  for (int i = 0; i < PD_DATASET_NBUILTIN; i++) {
    char text[128];
    const char *b = pd_dataset_builtin_names[i];
    snprintf(text, sizeof text, "[data]\nbuiltin = %s\n" GRID, b);
    PD_TEST_CHECK(pd_config_parse("t.ini", text, &c) == PD_OK &&
                      strcmp(c.builtin, b) == 0,
                  "builtin = %s: %s", b, pd_error_message());
    pd_data *data = NULL;
    PD_TEST_OK(pd_dataset_builtin(b, 2, 2, 1, &data));
    pd_data_destroy(&data);
  }
  /* --help-config: a header and one row per key */
  FILE *f = tmpfile();
  PD_TEST_CHECK(f != NULL, "tmpfile");
  if (!f) return;
  PD_TEST_OK(pd_conftext_help(f));
  rewind(f);
  char line[1024];
  int rows = 0;
  while (fgets(line, sizeof line, f)) rows += line[0] == '|';
  fclose(f);
  PD_TEST_CHECK(rows == PD_K_COUNT + 2, "--help-config: %d rows", rows);
}

/* ---- pd_config_load ------------------------------------------------------ */

static int rank, size;

/* Rank 0 writes bytes to a new temp file; every rank gets its name. */
static void temp_file(const char *bytes, size_t len, char name[64]) {
  snprintf(name, 64, "/tmp/pd_test_config_XXXXXX");
  if (rank == 0) {
    int fd = mkstemp(name);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    PD_TEST_CHECK(f && fwrite(bytes, 1, len, f) == len && fclose(f) == 0,
                  "cannot write %s", name);
  }
  MPI_Bcast(name, 64, MPI_CHAR, 0, MPI_COMM_WORLD);
}

/* Every rank has the same bytes as rank 0. */
static int same_everywhere(const void *p, int n) {
  char *root = NULL;
  PD_TEST_OK(pd_calloc((size_t)n, 1, &root));
  if (rank == 0) memcpy(root, p, (size_t)n);
  MPI_Bcast(root, n, MPI_BYTE, 0, MPI_COMM_WORLD);
  int same = memcmp(root, p, (size_t)n) == 0, all = 0;
  MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
  pd_free(&root);
  return all;
}

static void load_fails(const char *path, int code, const char *fragment) {
  pd_config c;
  char *text = (char *)&c; /* must come back NULL */
  int err = pd_config_load(MPI_COMM_WORLD, path, &c, &text);
  PD_TEST_CHECK(
      err == code && text == NULL && strstr(pd_error_message(), fragment),
      "load %s: error %d (want %d), want '%s', got:\n%s", path, err, code,
      fragment, pd_error_message());
}

static void test_load(void) {
  const char *body =
      "# a scan\n[data]\nbuiltin = sines\nn = 32\n"
      "[grid]\ngamma = 0:2:0.5\ngamma_prime = -1:1:0.5\nwidths = 1e3, 4e3\n"
      "seeds = 1, 2\n[output]\nfile = scan.h5\n";
  char name[64];
  temp_file(body, strlen(body), name);
  pd_config c, local;
  char *text = NULL;
  PD_TEST_OK(pd_config_load(MPI_COMM_WORLD, name, &c, &text));
  PD_TEST_OK(pd_config_parse(name, body, &local));
  PD_TEST_CHECK(memcmp(&c, &local, sizeof c) == 0,
                "loaded config differs from the parsed text");
  PD_TEST_CHECK(text && strcmp(text, body) == 0, "text differs");
  PD_TEST_CHECK(strcmp(c.path, name) == 0 && c.ngamma == 5 &&
                    c.ngamma_prime == 5 && c.widths[1] == 4000 && c.n == 32 &&
                    strcmp(c.output, "scan.h5") == 0,
                "loaded values");
  PD_TEST_CHECK(same_everywhere(&c, (int)sizeof c), "configs differ by rank");
  int len = text ? (int)strlen(text) + 1 : 0, lens_same = 0, lmax = 0;
  MPI_Allreduce(&len, &lmax, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  lens_same = len == lmax;
  PD_TEST_CHECK(lens_same && same_everywhere(text, len),
                "texts differ by rank");
  pd_free(&text);

  /* an empty file is read (and refused for its content, on every rank) */
  char empty[64];
  temp_file("", 0, empty);
  char want[128];
  snprintf(want, sizeof want, "%s: [grid] widths: required key missing", empty);
  load_fails(empty, PD_ERR_CONFIG, want);

  /* a bad value: the same message on every rank */
  char bad[64];
  const char *bad_body = "[grid]\nschemes = ntk\nwidths = 10, 2x\n";
  temp_file(bad_body, strlen(bad_body), bad);
  snprintf(want, sizeof want, "%s:3: [grid] widths: expected", bad);
  load_fails(bad, PD_ERR_CONFIG, want);

  /* missing, a directory, too large, binary */
  load_fails("/nonexistent/pd/t.ini", PD_ERR_CONFIG,
             "cannot read /nonexistent/pd/t.ini: No such file or directory");
  load_fails("/", PD_ERR_CONFIG,
             "job file / is a directory, not a regular file");
  /* a FIFO would block the read forever: refused before it is opened */
  char fifo[64];
  snprintf(fifo, sizeof fifo, "/tmp/pd_test_config_fifo_%d", (int)getpid());
  unlink(fifo);
  PD_TEST_CHECK(mkfifo(fifo, 0600) == 0, "mkfifo %s", fifo);
  load_fails(fifo, PD_ERR_CONFIG, "is a FIFO (named pipe), not a regular file");
  unlink(fifo);
  /* a checkpoint or result file where the job file belongs */
  char h5[64];
  static const char sig[] = "\211HDF\r\n\032\n\0\0\0\0";
  temp_file(sig, sizeof sig - 1, h5);
  load_fails(h5, PD_ERR_CONFIG, "is an HDF5 file (a checkpoint or a result");
  char big[64];
  size_t nbig = ((size_t)1 << 20) + 1;
  char *bytes = NULL;
  PD_TEST_OK(pd_calloc(nbig, 1, &bytes));
  memset(bytes, '\n', nbig);
  temp_file(bytes, nbig, big);
  load_fails(big, PD_ERR_CONFIG, "too large for a configuration");
  char ok[64];
  temp_file(bytes, nbig - 1, ok); /* exactly 1 MiB is allowed */
  snprintf(want, sizeof want, "%s: [grid] widths: required key missing", ok);
  load_fails(ok, PD_ERR_CONFIG, want);
  pd_free(&bytes);
  char bin[64];
  temp_file(GRID "\0x", sizeof GRID + 1, bin);
  load_fails(bin, PD_ERR_CONFIG, "contains a NUL byte");

  MPI_Barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    const char *files[] = {name, empty, bad, big, ok, bin};
    for (int i = 0; i < 6; i++) unlink(files[i]);
  }
}

/* tests/bad_configs: each file fails with its line in expected.tsv, and
 * every .ini there has a line. */
static void test_bad_files(void) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s", __FILE__);
  char *slash = strrchr(dir, '/');
  snprintf(slash ? slash + 1 : dir,
           sizeof dir - (size_t)(slash ? slash + 1 - dir : 0), "bad_configs");
  char path[1600];
  snprintf(path, sizeof path, "%s/expected.tsv", dir);
  FILE *f = fopen(path, "r");
  PD_TEST_CHECK(f != NULL, "cannot open %s", path);
  if (!f) return;
  char line[512], listed[64][64];
  int n = 0;
  while (fgets(line, sizeof line, f) && n < 64) {
    line[strcspn(line, "\r\n")] = '\0';
    char *tab = strchr(line, '\t');
    if (line[0] == '\0' || line[0] == '#') continue;
    PD_TEST_CHECK(tab != NULL, "expected.tsv: no tab in '%s'", line);
    if (!tab) continue;
    *tab = '\0';
    snprintf(listed[n++], 64, "%.63s", line);
    snprintf(path, sizeof path, "%s/%s", dir, line);
    load_fails(path, PD_ERR_CONFIG, tab + 1);
    /* the message names the file */
    PD_TEST_CHECK(strstr(pd_error_message(), line), "%s not named: %s", line,
                  pd_error_message());
  }
  fclose(f);
  PD_TEST_CHECK(n >= 12, "only %d bad configs", n);
  DIR *d = opendir(dir);
  PD_TEST_CHECK(d != NULL, "cannot list %s", dir);
  for (struct dirent *e = d ? readdir(d) : NULL; e; e = readdir(d)) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 4, ".ini") != 0) continue;
    int found = 0;
    for (int i = 0; i < n; i++) found |= strcmp(listed[i], e->d_name) == 0;
    PD_TEST_CHECK(found, "%s is not in expected.tsv", e->d_name);
  }
  if (d) closedir(d);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  test_bad();
  test_ranges();
  test_defaults();
  test_all_keys();
  test_comments();
  test_table();
  test_load();
  test_bad_files();
  return pd_test_end("test_config");
}
