"""make install: the binary and the tailnet library together under
PREFIX/libexec/wippy-c, PREFIX/bin/wippy a link to it, staged under
DESTDIR; the installed runtime runs a project."""
import os
import pathlib
import subprocess

from conftest import ROOT, one_command_index, real_wippy_binary, run_wippy


def test_make_install_stages_a_runnable_runtime(tmp_path, make_app):
    binary = pathlib.Path(real_wippy_binary())
    stage = tmp_path / "stage"
    make = subprocess.run(["make", "--no-print-directory", "install", f"DESTDIR={stage}", "PREFIX=/usr",
                           f"BUILD={os.path.relpath(binary.parent, ROOT)}",
                           f"SANITIZE={os.environ.get('SANITIZE', '0')}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert make.returncode == 0, make.stderr
    installed = stage / "usr" / "bin" / "wippy"
    assert installed.is_symlink() and os.readlink(installed) == "../libexec/wippy-c/wippy"
    assert (stage / "usr" / "libexec" / "wippy-c" / "wippy").read_bytes() == binary.read_bytes()
    if (binary.parent / "wippy-tailnode.so").exists():
        assert (stage / "usr" / "libexec" / "wippy-c" / "wippy-tailnode.so").exists()
    share = stage / "usr" / "share"
    assert (share / "man" / "man1" / "wippy.1").read_text().startswith(".TH WIPPY 1")
    completion = share / "bash-completion" / "completions" / "wippy"
    completes = subprocess.run(["bash", "-c", f"source {completion} && complete -p wippy"], capture_output=True,
                               text=True)
    assert completes.stdout.strip() == "complete -F _wippy wippy", completes
    offered = subprocess.run(["bash", "-c", f"source {completion}; COMP_WORDS=(wippy -v ru); COMP_CWORD=2; _wippy; "
                              "echo ${COMPREPLY[@]}"], capture_output=True, text=True)
    assert offered.stdout.strip() == "run", offered
    assert (share / "zsh" / "vendor-completions" / "_wippy").read_text().startswith("#compdef wippy")
    version = subprocess.run([str(installed), "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.startswith("wippy "), version
    app = make_app({"src/_index.yaml": one_command_index(["io"]),
                    "src/main.lua": "return {main = function() io.print('installed') end}\n"})
    ran = subprocess.run([str(installed), "run", "main"], cwd=app, capture_output=True, text=True, timeout=60)
    assert (ran.returncode, ran.stdout) == (0, "installed\n"), ran
