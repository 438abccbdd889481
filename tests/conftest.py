"""Shared test helpers live in rig.pytest_plugin (fixtures `free_udp_port`, `free_tcp_port`, `timeline`)."""
