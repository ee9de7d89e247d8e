"""Connecting the studio to a Ray cluster (``--ray ADDRESS`` / ``YOLO_STUDIO_RAY_ADDRESS``).

Ray is optional (the extra ``ray``): nothing imports it unless the studio is pointed at a
cluster, and then only through ``import_ray``. ``--ray local`` starts a Ray instance on this
machine that listens on loopback only: Ray's ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes
every Ray process of that instance bind 127.0.0.1 (without it Ray binds all interfaces);
``tests/cluster`` checks the listening sockets.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import TrainingError, ValidationError

#: Environment variable naming the cluster when ``--ray`` is not given.
RAY_ADDRESS_ENV = "YOLO_STUDIO_RAY_ADDRESS"
#: ``--ray`` value for a Ray instance of this machine's own, on loopback only.
LOCAL = "local"
#: What to install for the ``ray`` extra.
PIP_RAY = 'pip install "yolo-studio[ray]"  (or: pip install "ray[default]>=2.60,<2.61")'
#: Ray's switch that keeps a local instance on loopback (read when ``ray`` is imported).
_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
#: The Ray namespace of the studio's actors.
NAMESPACE = "yolo-studio"


def ray_address_from(value: str | None, env: dict[str, str] | None = None) -> str | None:
    """The cluster to run jobs on: ``value`` (``--ray``), else ``$YOLO_STUDIO_RAY_ADDRESS``,
    else None (jobs train on this machine, no Ray).

    Raises:
        ValidationError: the address is not ``local``, ``auto``, ``ray://host:port`` or
            ``host:port``.
    """
    env = os.environ if env is None else env
    address = (value if value is not None else env.get(RAY_ADDRESS_ENV, "")).strip()
    if not address:
        return None
    if address in (LOCAL, "auto") or address.startswith("ray://") or ":" in address:
        return address
    raise ValidationError(f"--ray {address!r} is not a Ray address: use 'local' (a Ray "
                          "instance on this machine, loopback only), 'auto' (the cluster this "
                          "machine joined with `ray start`), or ray://HOST:10001.")


def import_ray(local: bool = False) -> Any:
    """``import ray``, for a local instance with its loopback switch set first.

    Raises:
        TrainingError: Ray is not installed (the message has the pip command).
    """
    if local:
        os.environ[_LOOPBACK_ENV] = "0"
    try:
        import ray
    except ImportError as err:
        raise TrainingError(f"Running jobs on a Ray cluster needs Ray, which is not "
                            f"installed: {PIP_RAY}") from err
    return ray


def connect(address: str, num_cpus: int | None = None) -> tuple[Any, bool]:
    """Connect this process to the cluster at ``address`` (``ray_address_from``), or start a
    loopback-only local instance for ``local`` (with ``num_cpus`` CPUs; None: all).

    Returns:
        ``(ray, connected_now)``: the ``ray`` module, connected; False when this process was
        connected already (then whoever connected it disconnects).

    Raises:
        TrainingError: Ray is missing, or the cluster cannot be reached (with the cause).
    """
    local = address == LOCAL
    ray = import_ray(local)
    if ray.is_initialized():
        return ray, False
    options: dict[str, Any] = {"namespace": NAMESPACE, "log_to_driver": False,
                               "include_dashboard": False}
    try:
        if local:  # "local": a new instance, never a cluster this machine joined before
            ray.init(address="local", num_cpus=num_cpus, **options)
        else:
            options.pop("include_dashboard")
            ray.init(address=address, **options)
    except Exception as err:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ...
        raise TrainingError(f"Could not connect to the Ray cluster at {address!r}: "
                            f"{type(err).__name__}: {err}. Start it with `ray start --head` "
                            "(see the README's 'Several machines') or check the address."
                            ) from err
    return ray, True
