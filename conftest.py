pytest_plugins = ["reformatters.core.testing.fixtures"]
