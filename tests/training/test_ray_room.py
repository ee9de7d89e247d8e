"""The Ray executor's admission rule (``ray_executor.room_for``): a job is let through only
while its resources are free in Ray's view and after the jobs already let through. Pure
arithmetic over Ray's resource dicts: no Ray needed."""

from yolo_studio.training.ray_executor import room_for

CPU1 = {"CPU": 1.0}
TWO_NODES = {"CPU": 2.0}  # two nodes of 1 CPU each, as bench/cluster.py starts them


def test_jobs_submitted_but_not_yet_placed_hold_their_resources():
    # Ray still shows both CPUs free: the first job's task is not placed yet
    assert room_for(CPU1, TWO_NODES, TWO_NODES, [])
    assert room_for(CPU1, TWO_NODES, TWO_NODES, [CPU1])
    assert not room_for(CPU1, TWO_NODES, TWO_NODES, [CPU1, CPU1])


def test_ray_s_view_counts_what_others_use_and_what_has_not_come_back():
    # another user's tasks hold CPUs: a job of ours fits only in what they leave
    assert room_for(CPU1, TWO_NODES, {"CPU": 1.0}, [])
    assert not room_for(CPU1, TWO_NODES, {"CPU": 0.5}, [])
    assert not room_for({"CPU": 2.0}, TWO_NODES, {"CPU": 1.0}, [])
    # a job of ours ended, but Ray has not given its CPU back yet: wait
    assert not room_for(CPU1, TWO_NODES, {"CPU": 0.0}, [CPU1])


def test_every_resource_a_job_asks_for_must_be_free():
    total = {"CPU": 16.0, "GPU": 2.0}
    gpu_job = {"CPU": 1.0, "GPU": 1.0}
    assert room_for(gpu_job, total, total, [gpu_job])
    assert not room_for(gpu_job, total, total, [gpu_job, gpu_job])
    assert not room_for(gpu_job, {"CPU": 16.0}, {"CPU": 16.0}, [])  # no GPU in the cluster
    assert room_for(CPU1, total, total, [gpu_job, gpu_job])  # CPUs are left for a CPU job
