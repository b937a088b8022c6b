"""Settings per feature. Each group is a plain pydantic model that :class:`settings.Settings`
inherits, so every field keeps its flat name (``settings.s3_bucket``) and its environment
variable (``ROADWITNESS_S3_BUCKET``), while a feature's code can ask for its own group only."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator


class DatabaseSettings(BaseModel):
    data_dir: Path = Path("var")
    database_url: str = ""
    """SQLAlchemy URL; empty means ``sqlite:///{data_dir}/roadwitness.db``."""
    db_pool_size: int = Field(10, ge=1, le=1000)
    """PostgreSQL connections each process keeps open."""
    db_pool_overflow: int = Field(20, ge=0, le=1000)
    """Further connections a process may open at a peak (closed again when returned)."""
    db_pool_timeout_s: float = Field(10.0, gt=0, le=300)
    """How long a request waits for a free connection before it is answered 503 with
    ``Retry-After`` (the API's thread pool has 40 threads per process: more than the pool)."""

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def psycopg_dsn(self) -> str:
        """The database URL as libpq understands it (for Procrastinate)."""
        return self.database_url.replace("postgresql+psycopg://", "postgresql://", 1)


class StoreSettings(BaseModel):
    store: Literal["local", "s3"] = "local"
    store_path: Path | None = None
    """Folder of the local store; empty means ``{data_dir}/objects``."""
    s3_endpoint: str = "127.0.0.1:9000"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = "roadwitness"
    s3_secure: bool = False
    s3_region: str = "us-east-1"

    @property
    def local_store_path(self) -> Path:
        assert self.store_path is not None
        return self.store_path


class QueueSettings(BaseModel):
    queue: Literal["embedded", "procrastinate"] = "embedded"
    job_max_attempts: int = Field(3, ge=1, le=20)
    job_lease_s: float = Field(60.0, gt=0)
    """A job whose worker has not renewed its lease for this long is taken again."""
    job_retry_delay_s: float = Field(5.0, ge=0)
    """A failed attempt is retried after this delay times the attempts so far."""


class ModelSettings(BaseModel):
    models_dir: Path = Path("../shared/models")
    samples_dir: Path = Path("../shared/data")
    """Real sample media for the demo (never copied into the repository)."""
    detector: Literal[
        "yolov8n_onnx", "yolov8n_int8_onnx", "yolov8n_int8_tflite", "yolox_nano_onnx"
    ] = "yolov8n_onnx"
    """YOLOv8n (the shipped TFLite weights) on ONNX Runtime, derived once into the cache
    (models/derive.py); yolov8n_int8_onnx is its INT8 version (models/derive_int8.py: twice as
    fast on a CPU, some answers differ, so opt-in; a GPU keeps the float file);
    yolov8n_int8_tflite runs the file itself through ultralytics and LiteRT (1.7x slower
    here); yolox_nano_onnx is the second, lighter network."""
    plate_detector_size: Literal[320, 640] = 640
    plate_reader: Literal["ppocrv4_onnx", "ppocrv4_paddle", "rapidocr"] = "ppocrv4_onnx"
    """The same PP-OCRv4 network on ONNX Runtime (default) or on Paddle Inference (needs the
    paddle extra); rapidocr is the plain free-text reading, for comparison."""
    plate_province_prior: str | None = Field(
        None,
        pattern=r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼]:\d+(\.\d+)?$",
    )
    """A deployment's own province as a prior on the first plate character, as
    ``PROVINCE:WEIGHT`` (Shenzhen: ``粤:2``: 粤 counts twice as likely before reading). Off by
    default: the reader favours no province."""


class RulesSettings(BaseModel):
    rules_file: Path | None = None
    """Rule data (YAML, with GeoJSON road segments beside it); None runs the rules with their
    defaults and no road segments, so only covered-plate and declared reports become cases."""
    sample_fps: float = Field(2.0, gt=0, le=30)
    max_frames: int = Field(600, ge=1)


class UploadSettings(BaseModel):
    max_upload_bytes: int = Field(512 * 1024 * 1024, ge=1)
    max_video_seconds: float = Field(600.0, gt=0)
    upload_ttl_h: float = Field(24.0, gt=0)
    """A resumable upload that receives no bytes for this long expires."""
    max_json_bytes: int = Field(64 * 1024, ge=1024)
    """The largest JSON body of any route but ``/v1/events`` and the uploads (413 beyond)."""
    max_event_bytes: int = Field(6 * 1024 * 1024, ge=1024)
    """The largest ``POST /v1/events`` body (it may carry a whole GPS track)."""
    camera_time_zone: str = "Asia/Shanghai"
    """The IANA zone a photo's camera clock is read in when the photo records no offset and
    has no GPS place to look its zone up from."""

    @field_validator("camera_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone") from exc
        return value


class ReviewSettings(BaseModel):
    reporter_ref_key: SecretStr | None = None
    """The secret that keys the references officers see of reporters (HMAC-SHA256); empty
    means a random key made once and kept in ``{data_dir}/reporter_ref.key``. Give every API
    process of one deployment the same key, or references will differ between them."""
    map_tiles_url: str | None = None
    """A tile server for the desk's map (e.g. https://tiles.example/{z}/{x}/{y}.png); without
    one the map shows the track and the place on a plain background."""
    claim_minutes: float = Field(10.0, gt=0)
    """How long an officer's claim on a case lasts before it returns to the queue."""
    reward_policy_file: Path | None = None
    """Reward amounts and caps (YAML); None uses the Shenzhen 2018 measures shipped with the
    project (cases/reward_policy.yaml)."""


class AbuseSettings(BaseModel):
    rate_limit_window_s: float = Field(3600.0, gt=0)
    rate_limit_reporter: int = Field(30, ge=1)
    """Reports one reporter may send per window (then 429 with Retry-After)."""
    rate_limit_device: int = Field(120, ge=1)
    """Reports one dashcam may send per window."""
    abuse_min_decided: int = Field(5, ge=1)
    """Reporters listed for supervisors need at least this many decided cases..."""
    abuse_rejected_rate: float = Field(0.5, ge=0, le=1)
    """...and more than this share of them rejected."""
    fraud_exif_gps_tolerance_s: float = Field(300.0, ge=0)
    """A photo's EXIF time and GPS time further apart than this are flagged."""
    fraud_place_max_km: float = Field(2.0, ge=0)
    """A photo taken further than this from its report's declared place is flagged."""
    device_encoders: dict[str, list[str]] = {}
    """Dashcam model -> substrings of the container tags its recorder writes; a clip from a
    listed model without them is flagged container_mismatch@1."""


class OperationsSettings(BaseModel):
    max_queue_depth: int = Field(0, ge=0)
    """Back-pressure: while this many jobs wait, new uploads get 503 with Retry-After (devices
    keep the media and retry); 0 never refuses."""
    busy_retry_after_s: int = Field(30, ge=1, le=3600)
    """The Retry-After of a 503 back-pressure answer."""
    worker_metrics_port: int | None = Field(None, ge=0, le=65535)
    """A worker's /metrics, /healthz, /readyz port (0 picks a free one, logged); None: none."""
    log_format: Literal["auto", "json", "text"] = "auto"
    """auto: JSON lines when stderr is not a terminal, readable text on a terminal."""
