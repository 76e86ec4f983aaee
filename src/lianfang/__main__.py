from lianfang.cli.main import run

run()
