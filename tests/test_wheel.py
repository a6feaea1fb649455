"""The wheel carries the app's templates and German catalogue.

Builds the wheel from this checkout, installs it into a fresh virtualenv and,
in a host project that knows nothing about this repository (no template
``DIRS``, no ``LOCALE_PATHS``), renders templates of the app in German. The
dependencies come from the project's virtualenv through a ``.pth`` line, so
nothing is downloaded; the repository itself is never on ``sys.path``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

SETTINGS = """
SECRET_KEY = "wheel-test"
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [("de", "German"), ("en", "English")]
INSTALLED_APPS = [
    "vivadesk_wagtail",
    "wagtail_localize",
    "wagtail_localize.locales",
    "wagtail.contrib.forms",
    "wagtail.contrib.settings",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_mailbox",
    "django_ratelimit",
    "django_q",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
ROOT_URLCONF = "wheel_urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    }
]
STATIC_URL = "/static/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
    "vivadesk_private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": "private", "base_url": None},
    },
}
Q_CLUSTER = {"name": "wheel", "orm": "default", "timeout": 60, "retry": 90,
             "max_attempts": 1, "sync": True}
"""

URLS = """
from django.urls import include, path

urlpatterns = [path("helpdesk/", include("vivadesk_wagtail.urls"))]
"""

RENDER = """
import json
import os

os.environ["DJANGO_SETTINGS_MODULE"] = "wheel_settings"
import django

django.setup()

from django.contrib.auth.models import AnonymousUser
from django.template.loader import get_template
from django.utils import translation

import vivadesk_wagtail

out = {"package": vivadesk_wagtail.__file__, "templates": {}}
contexts = {
    "vivadesk_wagtail/mail/ticket_created_subject.txt": {
        "ticket": {"reference": "VIVA-1042", "subject": "Drucker"},
        "confirmed": False,
    },
    "vivadesk_wagtail/includes/requests_menu.html": {"user": AnonymousUser()},
}
with translation.override("de"):
    for name, context in contexts.items():
        template = get_template(name)
        out["templates"][name] = {
            "origin": template.origin.name,
            "text": template.render(context),
        }
print(json.dumps(out))
"""


def _run(*args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (
        f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtualenv with the wheel installed; returns (python, venv)."""
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
        str(REPO),
    )  # fmt: skip
    (wheel,) = dist.glob("vivadesk_wagtail-*.whl")

    venv = tmp / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    purelib = _run(
        str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"
    ).stdout.strip()
    # The dependencies the project venv already has, without its .pth files
    # (those would put the repository on sys.path through the editable install).
    ours = sysconfig.get_path("purelib")
    assert Path(ours).resolve() != REPO
    (Path(purelib) / "project_deps.pth").write_text(ours + "\n")
    _run(
        sys.executable, "-m", "pip", "--python", str(python), "install",
        "--no-deps", "--no-index", "-q", str(wheel),
    )  # fmt: skip
    return python, venv


def test_the_wheel_ships_templates_and_catalogue(installed):
    python, venv = installed
    found = _run(
        str(python),
        "-c",
        "import importlib.util, pathlib;"
        "spec = importlib.util.find_spec('vivadesk_wagtail');"
        "print(pathlib.Path(spec.origin).parent)",
        cwd=venv,
    ).stdout.strip()
    package = Path(found)
    assert package.is_relative_to(venv), package
    assert (package / "templates/vivadesk_wagtail/includes/requests_menu.html").exists()
    # The translation editor's override (its out-of-date banner and the
    # "Submit for moderation" button).
    assert (package / "templates/wagtail_localize/admin/edit_translation.html").exists()
    assert (package / "locale/de/LC_MESSAGES/django.po").exists()
    assert (package / "locale/de/LC_MESSAGES/django.mo").exists(), (
        "the compiled German catalogue is missing from the wheel"
    )


def test_the_wheel_leaves_the_benchmarks_in_the_reference_site(installed):
    python, venv = installed
    package = next(venv.glob("lib/python*/site-packages/vivadesk_wagtail"))
    assert (package / "management/commands/vivadesk_ingest.py").exists()
    assert not (package / "benchmarks").exists()
    commands = {path.stem for path in (package / "management/commands").glob("*.py")}
    assert commands.isdisjoint({"vivadesk_bench", "vivadesk_load"}), commands
    assert not list(package.rglob("locustfile.py"))


def test_the_installed_app_renders_german_from_its_own_files(installed, tmp_path):
    python, venv = installed
    project = tmp_path / "host"
    project.mkdir()
    (project / "wheel_settings.py").write_text(textwrap.dedent(SETTINGS))
    (project / "wheel_urls.py").write_text(URLS)
    (project / "render.py").write_text(RENDER)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV"}
    }
    env["PYTHONPATH"] = str(project)
    result = _run(str(python), "render.py", cwd=project, env=env)
    out = json.loads(result.stdout.strip().splitlines()[-1])

    package = Path(out["package"]).parent
    assert package.is_relative_to(venv), package
    assert not package.is_relative_to(REPO)
    for name, rendered in out["templates"].items():
        origin = Path(rendered["origin"])
        assert origin.is_relative_to(package / "templates"), (name, origin)
        assert not origin.is_relative_to(REPO), (name, origin)

    subject = out["templates"]["vivadesk_wagtail/mail/ticket_created_subject.txt"]
    assert subject["text"].strip() == "[VIVA-1042] Wir haben Ihre Anfrage erhalten"
    menu = out["templates"]["vivadesk_wagtail/includes/requests_menu.html"]
    assert "Anmelden" in menu["text"]
    assert 'href="/helpdesk/' in menu["text"]
