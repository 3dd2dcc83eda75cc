FLASK_APP=app.wsgi:create_cli_app
APP_ENV=development
