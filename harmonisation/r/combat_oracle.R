# Regenerate the R outputs that radrepro's ComBat is tested against (tests/test_harmonisation_r.py).
#
# The reference files in the shared data (combat_r/outputData) come from the neuroCombat R package's
# test folder (github.com/Jfortin1/ComBatHarmonization, Testing/). This script makes the same 32
# settings, plus the "training/test" scenario 2, with the neuroCombat package. The tests never run
# R; this is for users who have R and want to check radrepro's numbers themselves:
#
#   mkdir -p mydata/combat_r && cp path/to/testdata.csv mydata/combat_r/
#   Rscript harmonisation/r/combat_oracle.R mydata/combat_r/testdata.csv mydata/combat_r/outputData
#   RADREPRO_SHARED_DATA=$PWD/mydata .venv/bin/python -m pytest tests/test_harmonisation_r.py
#
# (The upstream folder also holds a copy misspelled "..._meanonl_batchref_r.csv"; copy the
# "meanonly" file to that name, or the test that checks every file is covered will say so.)
#
# Input: 200 features (rows) x 10 samples (columns). Batch 1 = samples 1-5, batch 2 = samples 6-10;
# the "adjusted" files model pheno = 1 for samples 1, 3, 5, 7, 9 (design ~pheno).
library(neuroCombat)

args <- commandArgs(trailingOnly = TRUE)
input <- if (length(args) >= 1) args[1] else "testdata.csv"
outdir <- if (length(args) >= 2) args[2] else "outputData"
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)

dat <- as.matrix(read.csv(input))
batch <- c(1, 1, 1, 1, 1, 2, 2, 2, 2, 2)
pheno <- rep(0, ncol(dat))
pheno[c(1, 3, 5, 7, 9)] <- 1
mod <- model.matrix(~pheno)

for (parametric in c(TRUE, FALSE)) {
  for (adjusted in c(TRUE, FALSE)) {
    for (eb in c(TRUE, FALSE)) {
      for (mean.only in c(FALSE, TRUE)) {
        for (ref in c(FALSE, TRUE)) {
          name <- paste(c("testdata_combat",
                          if (parametric) "parametric" else "nonparametric",
                          if (adjusted) "adjusted" else "unadjusted",
                          if (!eb) "noeb",
                          if (mean.only) "meanonly",
                          if (ref) "batchref",
                          "r"), collapse = "_")
          fit <- neuroCombat(dat, batch = batch, mod = if (adjusted) mod else NULL, eb = eb,
                             parametric = parametric, mean.only = mean.only,
                             ref.batch = if (ref) 1 else NULL, verbose = FALSE)
          write.csv(fit$dat.combat, file = file.path(outdir, paste0(name, ".csv")),
                    quote = FALSE, row.names = FALSE)
        }
      }
    }
  }
}

# Scenario 2: estimates from all 10 samples with the covariate, applied to samples 1, 2, 6, 7
# without it (neuroCombatFromTraining gives every new sample the training mean of the covariate effect).
fit <- neuroCombat(dat, batch = batch, mod = mod, verbose = FALSE)
test <- c(1, 2, 6, 7)
new <- neuroCombat:::neuroCombatFromTraining(dat[, test], batch = batch[test], estimates = fit$estimates)
write.csv(new$dat.combat, file = file.path(outdir, "training_test_scenario2_r.csv"),
          quote = FALSE, row.names = FALSE)
