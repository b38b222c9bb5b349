# syntax=docker/dockerfile:1
#
# The Sohar sandbox mock as a container: `docker build -t sohar-mock .`, then
# `docker run --rm -p 8080:8080 sohar-mock`. Configuration is by SOHAR_MOCK_* environment
# variables and three mount points, /scenarios, /config/mock.yaml and /state (README, "Docker").

# --- build: wheels for the project and every dependency, installed into a venv --------------
FROM python:3.12-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src
# Dependencies first, from pyproject.toml alone: editing the code or docs reuses this layer.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > requirements.txt \
 && pip wheel --wheel-dir /wheels -r requirements.txt

COPY README.md ./
COPY openapi/ openapi/
COPY scenarios/ scenarios/
COPY contract_tests/ contract_tests/
COPY mock_server/ mock_server/
RUN pip wheel --wheel-dir /wheels --no-deps . \
 && python -m venv --without-pip /opt/venv \
 && pip --python /opt/venv/bin/python install --no-index --find-links /wheels --no-compile sohar-mock \
 # Compile once here, as root: the runtime user cannot write __pycache__ next to the sources.
 # unchecked-hash: valid whatever mtimes the copy into the runtime stage leaves behind.
 && /opt/venv/bin/python -m compileall -q --invalidation-mode unchecked-hash /opt/venv/lib \
 # A stable path for the packaged default scenarios, whatever the Python minor version.
 && ln -s "$(/opt/venv/bin/python -I -c 'from mock_server.resources import default_scenarios_dir as d; print(d())')" \
          /opt/venv/default-scenarios

# --- runtime: the base image plus the venv; no compiler, no wheels, no test dependencies ------
FROM python:3.12-slim

RUN groupadd --system --gid 10001 sohar \
 && useradd --system --uid 10001 --gid sohar --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin sohar \
 && mkdir -p /scenarios /config /state \
 # The durable mode's folder: the runtime user writes the state file, its WAL and its lock here.
 && chown 10001:10001 /state \
 # An empty config, so SOHAR_MOCK_CONFIG can point here whether or not a file is mounted over it.
 && printf '%s\n' \
      '# Default (empty) configuration of the Sohar sandbox mock container. Mount your own file' \
      '# here: -v ./mock.yaml:/config/mock.yaml:ro. Keys: README "Configuration". SOHAR_MOCK_*' \
      '# variables beat this file; the image sets SOHAR_MOCK_HOST and SOHAR_MOCK_SCENARIOS, so set' \
      '# them to "" for a `host:` or `scenarios:` key here to take effect.' \
      '{}' > /config/mock.yaml

COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SOHAR_MOCK_HOST=0.0.0.0 \
    SOHAR_MOCK_SCENARIOS=/opt/venv/default-scenarios:/scenarios \
    SOHAR_MOCK_CONFIG=/config/mock.yaml

# Where a state file goes, for a mock whose state outlives its container: off by default (the
# mock keeps its state in memory); -e SOHAR_MOCK_STATE=/state/mock.sqlite with a volume here
# turns it on (README, "Durable state").
VOLUME /state

USER 10001:10001
EXPOSE 8080

# No curl in the image: the interpreter is already here. Follows SOHAR_MOCK_PORT.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/__admin/health' % (os.environ.get('SOHAR_MOCK_PORT') or 8080), timeout=2)"]

ENTRYPOINT ["sohar-mock"]
CMD ["serve"]
