"""Settings layering (file < env < overrides) and fault profiles as data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mockgc.faults import PROFILES, FaultProfile, PublishLock, Toxic, get_profile
from mockgc.platform.settings import OrgSettings, ServerSettings, Settings, load_settings

# -- settings -------------------------------------------------------------------


def test_defaults_bind_loopback_with_the_platform_rate_limit() -> None:
    settings = load_settings(environ={})
    assert settings == Settings()
    assert (settings.server.host, settings.org.rate_limit_per_minute, settings.org.profile) == (
        "127.0.0.1",
        300,
        "seed-default",
    )


def test_file_then_env_then_overrides(tmp_path: Path) -> None:
    config = tmp_path / "mockgc.toml"
    config.write_text('[mockgc]\nport = 9000\nseed = 3\nprofile = "fast"\nagents = 12\n')
    env = {"MOCKGC_SEED": "4", "MOCKGC_AGENTS": "13", "UNRELATED": "x"}
    settings = load_settings(config, environ=env, agents=14, port=None)
    assert settings.server.port == 9000  # file only
    assert settings.org.profile == "fast"  # file only
    assert settings.org.seed == 4  # env beats file
    assert settings.org.agents == 14  # override beats env; a None override is ignored
    assert load_settings(config, environ={}).org.seed == 3


def test_a_file_without_the_mockgc_table_is_read_at_top_level(tmp_path: Path) -> None:
    config = tmp_path / "flat.toml"
    config.write_text('clock = "virtual"\nrate_limit_per_minute = 0\n')
    settings = load_settings(config, environ={})
    assert (settings.server.clock, settings.org.rate_limit_per_minute) == ("virtual", 0)


def test_env_strings_are_coerced_to_the_field_types() -> None:
    settings = load_settings(environ={"MOCKGC_PORT": "0", "MOCKGC_CLIENT_SECRET": "123", "MOCKGC_CLOCK": "virtual"})
    assert settings.server.port == 0 and settings.org.client_secret == "123" and settings.server.clock == "virtual"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[mockgc]\nbogus = 1\n", "unknown settings"),
        ("[mockgc]\nport = 'abc'\n", "port must be an integer"),
        ("[mockgc\n", "cannot read config file"),
        ("[mockgc]\nport = 70000\n", "port must be between"),
        ("[mockgc]\nagents = 0\n", "agents must be at least 1"),
        ("[mockgc]\nclock = 'sundial'\n", "clock must be"),
        ("[mockgc]\njournal_size = 0\n", "must be positive"),
        ("[mockgc]\narchive_after_seconds = -1\n", "archive_after_seconds must not be negative"),
    ],
)
def test_bad_files_are_errors(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_settings(config, environ={})


def test_the_example_file_holds_the_defaults() -> None:
    example = Path(__file__).resolve().parents[2] / "mockgc.example.toml"
    settings = load_settings(example, environ={})
    assert settings == Settings()
    assert load_settings(example, environ={"MOCKGC_ARCHIVE_AFTER_SECONDS": "0"}).org.archive_after_seconds == 0


def test_bad_env_values_and_overrides_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="seed must be an integer"):
        load_settings(environ={"MOCKGC_SEED": "seven"})
    with pytest.raises(ValueError, match="rate_limit_per_minute"):
        load_settings(environ={"MOCKGC_RATE_LIMIT_PER_MINUTE": "-1"})
    with pytest.raises(ValueError, match="cannot read config file"):
        load_settings(tmp_path / "missing.toml", environ={})
    with pytest.raises(TypeError):
        load_settings(environ={}, no_such_setting=1)


def test_settings_split_into_what_the_server_is_and_what_the_org_is() -> None:
    settings = Settings(port=9000, admin_key="k", journal_size=5, seed=3, agents=7, client_secret="s")
    assert (settings.server.port, settings.server.admin_key, settings.server.journal_size) == (9000, "k", 5)
    assert (settings.org.seed, settings.org.agents, settings.org.client_secret) == (3, 7, "s")
    assert not hasattr(settings.org, "admin_key") and not hasattr(settings.org, "port")  # the domain's part
    assert Settings(server=ServerSettings(port=1), org=OrgSettings(seed=2), seed=4) == Settings(port=1, seed=4)
    with pytest.raises(TypeError, match="unknown settings: nope"):
        Settings(nope=1)


def test_with_credentials_fills_only_what_is_missing() -> None:
    filled = Settings(admin_key="given").with_credentials()
    assert filled.server.admin_key == "given"
    assert len(filled.org.client_secret) >= 16
    assert Settings().with_credentials().org.client_secret != Settings().with_credentials().org.client_secret


# -- fault profiles -------------------------------------------------------------


def test_the_catalogue_has_the_field_report_and_a_fast_profile() -> None:
    seed = get_profile("seed-default").publish
    assert (seed.batch_size, seed.interval_ms, seed.hold_ms, seed.kind, seed.toxicity, seed.platform_version) == (
        10,
        1000,
        2500,
        "reject",
        1.0,
        "v2",
    )
    fast = get_profile("fast").publish
    assert fast.hold_ms <= 500 and fast.interval_ms <= 100
    assert get_profile("legacy-v1").publish.platform_version == "v1"
    assert get_profile("calm").publish.toxicity == 0.0
    assert {get_profile(n).publish.kind for n in ("seed-default", "seed-clobber", "seed-invalidate")} == {
        "reject",
        "clobber",
        "invalidate",
    }
    for profile in PROFILES.values():
        profile.publish.validate()
        assert profile.description
    with pytest.raises(ValueError, match="unknown fault profile"):
        get_profile("nope")


def test_profiles_round_trip_through_dicts() -> None:
    profile = FaultProfile(
        "custom",
        "a test profile",
        PublishLock(batch_size=2, interval_ms=50, hold_ms=75, kind="clobber", toxicity=0.25),
        (Toxic("slow", "latency", 0.5, "/api/v2/scripts", {"latency_ms": 20, "jitter_ms": 5}),),
    )
    assert FaultProfile.from_dict(profile.to_dict()) == profile


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"description": "no name"},
        {"name": "x", "publish": []},
        {"name": "x", "publish": {"unknown": 1}},
        {"name": "x", "publish": {"batch_size": 0}},
        {"name": "x", "publish": {"batch_size": 2.5}},
        {"name": "x", "publish": {"batch_size": True}},
        {"name": "x", "publish": {"hold_ms": -1}},
        {"name": "x", "publish": {"hold_ms": 10**400}},
        {"name": "x", "publish": {"kind": "explode"}},
        {"name": "x", "publish": {"toxicity": 1.5}},
        {"name": "x", "publish": {"platform_version": "v3"}},
        {"name": "x", "toxics": {}},
        {"name": "x", "description": 5},
        {"name": "x", "toxics": [{"name": "t", "type": "teleport"}]},
        {"name": "x", "toxics": [{"name": "t", "type": "latency", "attributes": {"latency_ms": -5}}]},
        {"name": "x", "toxics": [{"name": "t", "type": "latency", "attributes": {"latency_ms": 10**400}}]},
        {"name": "x", "toxics": [{"name": "t", "type": "http_error", "attributes": {"status": 200}}]},
        {"name": "x", "toxics": [{"name": "t", "type": "rate_limit", "attributes": {"retry_after": 0}}]},
        {"name": "x", "toxics": [{"name": "t", "type": "latency", "extra": 1}]},
        {"name": "x", "toxics": [{"name": "", "type": "latency"}]},
        {"name": "x", "toxics": [{"name": "t", "type": "latency", "toxicity": "high"}]},
    ],
)
def test_invalid_profiles_are_rejected_with_value_errors(data: object) -> None:
    with pytest.raises(ValueError):
        FaultProfile.from_dict(data)  # type: ignore[arg-type]


def test_with_publish_validates_the_change() -> None:
    assert get_profile("fast").with_publish(kind="invalidate").publish.kind == "invalidate"
    assert get_profile("fast").publish.kind == "reject"  # profiles are immutable
    with pytest.raises(ValueError):
        get_profile("fast").with_publish(toxicity=-0.1)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("seed = 4\n[mockgc]\nagents = 3\n", "has a [mockgc] table and top-level keys (seed)"),
        ("mockgc = 5\n", "[mockgc] must be a table"),
        ("seed = " + "[" * 100_000 + "]" * 100_000 + "\n", "nests too deeply"),
    ],
)
def test_a_settings_file_that_cannot_be_settings_says_so(tmp_path: Path, text: str, words: str) -> None:
    config = tmp_path / "mockgc.toml"
    config.write_text(text)
    with pytest.raises(ValueError, match=re.escape(words)):
        load_settings(config, environ={})
