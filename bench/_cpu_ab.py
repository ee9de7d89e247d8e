import sys, time, statistics
from common import monitored_studio, studio_app, served, watching_pages
from monitoring import TimedBackend
from yolo_studio.config import TrainingConfig
backend = TimedBackend()
base = dict(dataset="tiny", base_model="yolo11n.yaml", epochs=3, imgsz=64, workers=0, batch=8, device="cpu")
with monitored_studio("exp-", backend) as (manager, monitor):
    demo = studio_app(manager, monitor)
    with served(demo) as url:
        manager.wait_for_job(manager.start_training(TrainingConfig(**base, model_name="warm")))
        res = {0: [], 20: []}
        for i in range(int(sys.argv[1])):
            for count in (0, 20):
                with watching_pages(demo, url, count) as usage:
                    t0 = time.perf_counter()
                    manager.wait_for_job(manager.start_training(TrainingConfig(**base, model_name=f"p{i}{count}")))
                    dt = time.perf_counter() - t0
                res[count].append((usage["server_cpu_s"] / dt, usage["pages_cpu_s"] / dt, dt))
        for c in res:
            print(f"RESULT {c}: server {statistics.median(r[0] for r in res[c])*100:.2f}% pages {statistics.median(r[1] for r in res[c])*100:.2f}% wall {statistics.median(r[2] for r in res[c]):.2f}")
