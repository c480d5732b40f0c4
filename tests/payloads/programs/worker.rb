require "logger"
require "sentry-ruby"

module Acc
  class ConfigError < StandardError; end

  class Loader
    def load_config(name)
      raise ConfigError, "missing setting #{name}"
    end
  end
end

Sentry.init do |config|
  config.dsn = ARGV.fetch(0)
  config.background_worker_threads = 0
  config.logger = Logger.new($stderr, level: Logger::WARN)
end

begin
  Acc::Loader.new.load_config("smtp_host")
rescue Acc::ConfigError => e
  Sentry.capture_exception(e)
end
