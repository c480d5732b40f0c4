# Send events with sentry-ruby: `ruby send.rb DSN TIMESTAMP`, TIMESTAMP
# (RFC 3339) being the moment every event claims to have happened. Print one
# JSON object on stdout: the ids captured, and every envelope the SDK posted
# (its item types, whether it was gzipped, whether the server took it).
#
# Run by tests/test_sdk_ruby.py with Debian's ruby-sentry-ruby.

require "json"
require "logger"
require "sentry-ruby"

BACKDATED = ARGV.fetch(1)

# Record what the SDK's own HTTP transport sends, without changing it.
module RecordPosts
  POSTS = []

  def send_data(data)
    # An envelope: its header, then an item header and a payload per item
    # (this sentry-ruby puts an empty line between two items).
    lines = data.lines.drop(1).reject { |line| line.strip.empty? }
    types = lines.each_slice(2).map { |header, _| JSON.parse(header)["type"] }
    post = { "types" => types, "gzip" => should_compress?(data) }
    begin
      super
      POSTS << post.merge("ok" => true)
    rescue Sentry::ExternalError => e
      POSTS << post.merge("ok" => false, "error" => e.message)
      raise
    end
  end
end
Sentry::HTTPTransport.prepend(RecordPosts)

class OrderError < StandardError; end
class StorageError < StandardError; end

def write_row(id)
  raise StorageError, "disk full while writing row #{id}"
end

def save_order(id)
  write_row(id)
rescue StorageError
  # Raised inside rescue: Ruby sets OrderError#cause to the StorageError.
  raise OrderError, "could not save order #{id}"
end

Sentry.init do |config|
  config.dsn = ARGV.fetch(0)
  config.release = "billing@2.7.1"
  config.environment = "staging"
  config.server_name = "ruby-worker-01"
  config.traces_sample_rate = 1.0
  # Send in this thread: the posts are recorded before we print.
  config.background_worker_threads = 0
  config.logger = Logger.new($stderr, level: Logger::WARN)
  config.before_send = lambda do |event, _hint|
    next nil if event.message == "dropped by before_send"

    event.timestamp = BACKDATED
    event
  end
end

Sentry.set_tags(tenant: "acme")
Sentry.set_user(id: "u-7", email: "jane@example.com", username: "jane")
Sentry.add_breadcrumb(
  Sentry::Breadcrumb.new(category: "auth", message: "user logged in", level: "info")
)

ids = {}
Sentry.with_session_tracking do
  transaction = Sentry.start_transaction(name: "ChargeJob", op: "queue.job")
  Sentry.get_current_scope.set_span(transaction)
  begin
    save_order(1234)
  rescue OrderError => e
    ids["exception"] = Sentry.capture_exception(e).event_id
  end
  transaction.finish
end
ids["message"] = Sentry.capture_message("Payment gateway timed out", level: :warning).event_id
Sentry.session_flusher.flush

# An event before_send drops is counted in a client report, which rides
# along with the next event (once 30 s have passed since the last: let them
# have). The next event is over 30 KiB, so that it is gzipped.
Sentry.capture_message("dropped by before_send")
Sentry.get_current_client.transport.instance_variable_set(:@last_client_report_sent, Time.at(0))
Sentry.with_scope do |scope|
  scope.set_extras(report: "0123456789abcdef" * 2500)
  ids["large"] = Sentry.capture_message("Nightly report attached").event_id
end

puts JSON.generate({ "ids" => ids, "posts" => RecordPosts::POSTS })
