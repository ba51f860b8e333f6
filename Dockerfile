# The browser packages of package.json (package-lock.json pins them); only the files the site serves are copied on.
FROM node:20-bookworm-slim AS browser-packages
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-nanum libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 tesseract-ocr tesseract-ocr-kor curl procps postgresql-client \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 app
WORKDIR /app
# One production image for web, workers and beat: the runtime packages only (requirements.txt). The test and
# development tools (requirements-dev.txt) and the code only they use stay out (.dockerignore).
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY --chown=app:app . .
COPY --from=browser-packages /build/node_modules/@portone/browser-sdk/dist/v2.js node_modules/@portone/browser-sdk/dist/v2.js
COPY --from=browser-packages /build/node_modules/pretendard/dist/web/variable/pretendardvariable-dynamic-subset.css node_modules/pretendard/dist/web/variable/pretendardvariable-dynamic-subset.css
COPY --from=browser-packages /build/node_modules/pretendard/dist/web/variable/woff2-dynamic-subset node_modules/pretendard/dist/web/variable/woff2-dynamic-subset
COPY --from=browser-packages /build/node_modules/bootstrap-icons/icons node_modules/bootstrap-icons/icons
COPY --from=browser-packages /build/node_modules/signature_pad/dist/signature_pad.umd.min.js node_modules/signature_pad/dist/signature_pad.umd.min.js
COPY --from=browser-packages /build/node_modules/signature_pad/dist/signature_pad.umd.min.js.map node_modules/signature_pad/dist/signature_pad.umd.min.js.map
# Build-time values only: the real secrets and keys come from the environment at run time.
ARG BUILD_ENV="DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
FIELD_ENCRYPTION_KEYS=YnVpbGQtb25seS1idWlsZC1vbmx5LWJ1aWxkLW9ubHk= FIELD_HASH_KEY=build-only-build-only-build-only-0"
RUN env $BUILD_ENV python manage.py compile_translations \
 && env $BUILD_ENV python manage.py collectstatic --no-input \
 && mkdir -p /app/var/private && chown -R app:app /app/var
USER app
EXPOSE 8000
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
