"""Prints, as JSON, the addresses every listening TCP socket of this network namespace is
bound to, after starting a Ray instance: the studio's ``--ray local``
(``ray_cluster.connect("local")``) with argument ``studio``, or Ray's own default
(``ray.init()``) with argument ``ray-default``. Run by ``test_cluster.py`` in a namespace where
this machine's name resolves to a non-loopback address, as on a real network."""

from __future__ import annotations

import json
import os
import sys
import time

import psutil


def main(mode: str) -> None:
    if mode == "studio":
        from yolo_studio.training.ray_cluster import connect

        ray, _ = connect("local", num_cpus=1)
    else:  # Ray's own default, whatever this process's environment says
        os.environ.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
        import ray

        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    time.sleep(2)  # the agents open their ports after the instance is up
    bound = sorted({conn.laddr.ip for conn in psutil.net_connections(kind="tcp")
                    if conn.status == psutil.CONN_LISTEN})
    print(json.dumps({"node_ip": ray.util.get_node_ip_address(), "bound": bound}))
    ray.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])
