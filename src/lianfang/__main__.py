from lianfang.cli import run

run()
