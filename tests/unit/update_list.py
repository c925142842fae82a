#!/usr/bin/env python3
"""Rewrites the test list in tests/unit/main.c from the TEST()s of test_*.c."""
import pathlib
import re

here = pathlib.Path(__file__).resolve().parent
names = []
for path in sorted(here.glob("test_*.c")):
    names += re.findall(r"^TEST\((\w+)\)", path.read_text(), re.M)
main = here / "main.c"
text = main.read_text()
declarations = "\n".join(f"TEST({name});" for name in names)
rows = "\n".join(f'    {{"{name}", {name}}},' for name in names)
text = re.sub(r"(char test_failure\[4096\];\n\n).*?(\n\nstatic const struct)",
              lambda m: m.group(1) + declarations + m.group(2), text, flags=re.S)
text = re.sub(r"(\} tests\[\] = \{\n).*?(\n\};)",
              lambda m: m.group(1) + rows + m.group(2), text, flags=re.S)
main.write_text(text)
