"""The command line: --help everywhere, --version, extract, run, and one-line errors with exit code 2."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

from radrepro.cli import SUBCOMMANDS, build_parser, main
from radrepro.datasets.phantom import digital_phantom


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "radrepro", *args], capture_output=True, text=True, cwd=cwd)


def test_version():
    r = cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("radrepro ")


def test_help_on_every_subcommand():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(SUBCOMMANDS) <= set(sub.choices)
    for name in sub.choices:
        r = cli(name, "--help")
        assert r.returncode == 0, name
        assert "usage: radrepro " + name in r.stdout


@pytest.fixture
def phantom_files(tmp_path):
    image, mask = digital_phantom()
    ip, mp = tmp_path / "image.nii.gz", tmp_path / "mask.nrrd"
    sitk.WriteImage(image, str(ip))
    sitk.WriteImage(mask, str(mp))
    return ip, mp


def test_extract_csv(phantom_files, tmp_path):
    out = tmp_path / "f.csv"
    settings = tmp_path / "s.toml"
    settings.write_text('families = ["stat"]\n')
    assert main(["extract", *map(str, phantom_files), "--settings", str(settings), "-o", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["feature", "value"]
    assert df.set_index("feature")["value"]["stat_energy"] == 567


@pytest.mark.parametrize(
    "make,fragment",
    [
        (lambda d, i, m: (d / "missing.nii.gz", m, []), "does not exist"),
        (lambda d, i, m: (_corrupt(d), m, []), "cannot be read"),
        (lambda d, i, m: (i, m, ["--label", "7"]), "no voxel with label 7"),
        (lambda d, i, m: (i, _shifted_mask(d), []), "origin"),
        (lambda d, i, m: (_nan_image(d), m, []), "NaN"),
        (lambda d, i, m: (i, m, ["--settings", _settings(d, "bin_width = 'x'")]), "bin_width"),
        (lambda d, i, m: (i, m, ["--settings", _settings(d, "binwidth = 3")]), "unknown setting 'binwidth'"),
    ],
)
def test_bad_input_is_one_line_exit_2(phantom_files, tmp_path, make, fragment):
    image, mask, extra = make(tmp_path, *phantom_files)
    r = cli("extract", str(image), str(mask), *extra)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_debug_shows_traceback(phantom_files, tmp_path):
    r = cli("--debug", "extract", str(tmp_path / "missing.nii.gz"), str(phantom_files[1]))
    assert r.returncode != 0 and "Traceback" in r.stderr


def _corrupt(d):
    p = d / "corrupt.nii.gz"
    p.write_bytes(b"\x1f\x8b garbage")
    return p


def _shifted_mask(d):
    _, mask = digital_phantom()
    mask.SetOrigin((10.0, 0.0, 0.0))
    p = d / "shifted.nrrd"
    sitk.WriteImage(mask, str(p))
    return p


def _nan_image(d):
    image, _ = digital_phantom()
    a = sitk.GetArrayFromImage(image).astype(np.float32)
    a[0, 0, 0] = np.nan
    out = sitk.GetImageFromArray(a)
    out.CopyInformation(image)
    p = d / "nan.nrrd"  # SimpleITK reads NaN in NIfTI as 0
    sitk.WriteImage(out, str(p))
    return p


def _settings(d, text):
    p = d / "bad.toml"
    p.write_text(text + "\n")
    return str(p)


def test_datasets_list():
    r = cli("datasets", "list")
    assert r.returncode == 0 and "synthetic-multicentre" in r.stdout and "ibsi-digital-phantom" in r.stdout


def test_unknown_suite_is_one_line(tmp_path):
    r = cli("run", "no-such-suite", cwd=tmp_path)
    assert r.returncode == 2 and "no suite 'no-such-suite'" in r.stderr and "quick" in r.stderr
