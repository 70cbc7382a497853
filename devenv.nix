# The Nix dev shell: Python 3.11, uv (synced from uv.lock with every extra), Docker's client
# and compose, hadolint, the Dagger CLI, and one script per common task.
#
#   devenv shell        # then: hpp-run, hpp-serve, hpp-ui, stack-up, pipeline, ...
#   devenv test         # the tests that need no Docker engine
#
# Docker itself (the engine) comes from the host; deployment/README.md has the details.
{ pkgs, ... }:

{
  languages.python = {
    enable = true;
    # nixpkgs' own 3.11, so no extra input is needed for the interpreter.
    package = pkgs.python311;
    uv = {
      enable = true;
      sync = {
        enable = true;
        allExtras = true;
      };
    };
  };

  packages = [
    pkgs.git
    pkgs.docker-client
    pkgs.docker-compose
    pkgs.hadolint
    pkgs.dagger
  ];

  # uv must use the shell's Python, never download one of its own.
  env.UV_PYTHON_DOWNLOADS = "never";

  scripts = {
    hpp-run.description = "The main job on the sample data: ingest, build, train, register";
    hpp-run.exec = ''uv run hpp run --source sample "$@"'';

    hpp-serve.description = "The prediction service on http://127.0.0.1:8000";
    hpp-serve.exec = ''uv run hpp serve "$@"'';

    hpp-ui.description = "The dashboard on http://127.0.0.1:8501 (service at $API_URL)";
    hpp-ui.exec = ''uv run hpp ui "$@"'';

    stack-up.description = "Build both images and start service + dashboard with compose";
    stack-up.exec = ''docker compose up -d --build "$@"'';

    stack-down.description = "Stop the compose stack";
    stack-down.exec = ''docker compose down "$@"'';

    mlflow-up.description = "The MLflow server on http://127.0.0.1:5555";
    mlflow-up.exec = ''docker compose --profile mlflow up -d --build mlflow'';

    pipeline.description = "The Dagger pipeline (add --dry-run to see the plan)";
    pipeline.exec = ''uv run python deployment/dagger/main.py "$@"'';

    checks.description = "Lint and type-check, as CI does";
    checks.exec = ''
      uv run ruff check . && uv run ruff format --check . \
        && uv run mypy && uv run mypy deployment/dagger
    '';
  };

  enterShell = ''
    echo "House Price Predictor: $(python --version), $(uv --version)"
    echo "scripts: hpp-run hpp-serve hpp-ui stack-up stack-down mlflow-up pipeline checks"
  '';

  enterTest = ''
    uv run pytest -m "not containers"
  '';
}
