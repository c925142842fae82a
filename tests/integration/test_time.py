"""The time module as Go Wippy's (its spec.md): numbers are nanoseconds,
Go layouts, zones from the system's database, the Time methods. Expected
texts are what Go's time package gives for the same calls."""
import os

from conftest import one_command_index, run_wippy

MAIN = r"""local io = require("io")
local time = require("time")
return {main = function(case)
  if case == "units" then
    io.print(time.NANOSECOND, time.MICROSECOND, time.MILLISECOND, time.SECOND, time.MINUTE, time.HOUR)
    io.print(time.JANUARY, time.DECEMBER, time.SUNDAY, time.SATURDAY, time.RFC3339, time.KITCHEN)
    local started = time.now()
    time.sleep(20 * time.MILLISECOND)
    time.sleep(1000000)           -- one millisecond, as in Go
    time.sleep("5ms")
    local elapsed = time.now():sub(started)
    io.print(elapsed:milliseconds() >= 26, elapsed:seconds() < 2)
    for _, d in ipairs({time.parse_duration("1h30m"), time.parse_duration(1500), time.parse_duration(90 * time.SECOND),
                        time.parse_duration("-2.5ms"), time.parse_duration(0), time.parse_duration(time.HOUR + 1)}) do
      io.print(tostring(d), d:nanoseconds(), d:seconds())
    end
    io.print(time.after(0))
  elseif case == "never_early" then
    local early = 0
    for _ = 1, 60 do
      local started = time.now()
      time.sleep(1500000)
      if time.now():sub(started):nanoseconds() < 1500000 then early = early + 1 end
      started = time.now()
      time.after("1500us"):receive()
      if time.now():sub(started):nanoseconds() < 1500000 then early = early + 1 end
    end
    io.print("early", early)
  elseif case == "utc" then
    local t = time.date(2024, 12, 29, 15, 4, 5, 123456789, time.utc)
    io.print(t:unix(), t:unix_nano(), tostring(t))
    io.print(t:format(time.RFC1123), t:format(time.RFC3339NANO), t:format(time.KITCHEN), t:format("Jan _2 002"))
    io.print(t:year(), t:month(), t:day(), t:hour(), t:minute(), t:second(), t:nanosecond(), t:weekday(), t:year_day())
    io.print(t:date())
    io.print(t:clock())
    io.print(t:add(time.HOUR):format(time.DATE_TIME), t:add("-30m"):format(time.TIME_ONLY))
    io.print(time.date(2024, 1, 31, 0, 0, 0, 0, time.utc):add_date(0, 1, 0):format(time.DATE_ONLY))
    io.print(time.date(2024, 13, 1, 25, 0, 0, 0, time.utc):format(time.DATE_TIME))
    local r = time.date(2024, 1, 1, 10, 29, 31, 0, time.utc)
    io.print(r:round(time.parse_duration("1h")):format(time.TIME_ONLY), r:truncate(time.parse_duration("1h")):format(time.TIME_ONLY),
             r:round(time.parse_duration("30m")):format(time.TIME_ONLY))
    io.print(time.date(1, 1, 1, 0, 0, 0, 0, time.utc):is_zero(), t:is_zero())
    io.print(t:before(t:add(1)), t:after(t:add(1)), t:equal(t:in_location(time.fixed_zone("X", 3600))))
    io.print(time.unix(1735484645, 0):utc():format(time.RFC3339), time.unix(0, -1):utc():format(time.RFC3339NANO))
  elseif case == "zones" then
    local ny, err = time.load_location("America/New_York")
    io.print(tostring(ny), err)
    local summer = time.date(2024, 7, 4, 12, 0, 0, 0, ny)
    io.print(summer:format("15:04 MST -0700"), summer:utc():hour(), tostring(summer:location()))
    io.print(time.date(2024, 1, 15, 12, 0, 0, 0, ny):format(time.RFC3339))
    io.print(time.date(2021, 3, 14, 2, 30, 0, 0, ny):format("15:04 MST"), time.date(2021, 11, 7, 1, 30, 0, 0, ny):format("15:04 MST"))
    local est = time.fixed_zone("EST", -5 * 3600)
    io.print(summer:in_location(est):format(time.RFC1123Z), summer:in_location(est):location():string())
    local kolkata = time.load_location("Asia/Kolkata")
    io.print(time.unix(1735484645, 0):in_location(kolkata):format(time.RFC3339))
    io.print(time.load_location("Nowhere/City"))
    io.print(time.load_location("../../etc/passwd"))
    io.print(time.load_location(""))
    io.print(tostring(time.load_location("UTC")), tostring(time.localtz), tostring(time.utc))
    io.print(time.now():location():string(), time.date(2024, 7, 4, 12, 0, 0, 0):format("MST"))
    io.print(time.load_location("America"))
    io.print(time.load_location("Europe/\nLondon"))
  elseif case == "parse" then
    local p = time.parse(time.RFC3339, "2024-12-29T15:04:05Z")
    io.print(p:unix(), tostring(p))
    p = time.parse(time.RFC3339, "2024-12-29T15:04:05+05:30")
    io.print(p:unix(), tostring(p))
    p = time.parse("2006-01-02 15:04:05", "2024-12-29 15:04:05", time.utc)
    io.print(p:unix(), p:location():string())
    local ny = time.load_location("America/New_York")
    p = time.parse("2006-01-02 15:04", "2024-01-15 09:00", ny)
    io.print(p:format(time.RFC3339))
    p = time.parse(time.RFC1123, "Mon, 15 Jan 2024 09:00:00 EST", ny)
    io.print(p:format(time.RFC3339), p:location():string())
    p = time.parse(time.RFC1123, "Mon, 15 Jan 2024 09:00:00 EST", time.utc)
    io.print(tostring(p))
    local bad, err = time.parse("2006-01-02", "2024-13-01")
    io.print(bad, tostring(err), err:kind())
    io.print(time.parse("2006-01-02", "24-01-01"))
  elseif case == "cross" then
    local ny = time.load_location("America/New_York")
    local inbox = process.inbox()
    process.send(process.pid(), "t", {when = time.date(2024, 7, 4, 12, 0, 0, 0, ny), zone = ny, d = time.parse_duration("90s")})
    local got = inbox:receive():payload():data()
    io.print(got.when:format("15:04 MST"), got.zone:string(), tostring(got.d))
  end
end}
"""


def run(make_app, case, tz="UTC", size="2000"):
    app = make_app({"src/_index.yaml": one_command_index(["io", "time"]), "src/main.lua": MAIN})
    env = {k: v for k, v in os.environ.items() if k != "TZ"}
    if tz is not None:
        env["TZ"] = tz
    return run_wippy(app, "--set", f"scheduler.heap_size={size}", "run", "main", case, env=env)


def test_durations_are_nanoseconds(make_app):
    result = run(make_app, "units")
    assert result.code == 0, result
    assert result.lines == [
        "1\t1000\t1000000\t1000000000\t60000000000\t3600000000000",
        "1\t12\t0\t6\t2006-01-02T15:04:05Z07:00\t3:04PM",
        "true\ttrue",
        "1h30m0s\t5400000000000\t5400.0",
        "1.5µs\t1500\t1.5e-06",
        "1m30s\t90000000000\t90.0",
        "-2.5ms\t-2500000\t-0.0025",
        "0s\t0\t0.0",
        "1h0m0.000000001s\t3600000000001\t3600.000000001",
        "nil\tduration must be positive",
    ], result


def test_sleeps_and_timers_never_end_early(make_app):
    # libuv's clock counts whole milliseconds from a coarse clock; Go's never wakes early
    result = run(make_app, "never_early")
    assert result.code == 0, result
    assert result.lines == ["early\t0"], result


def test_times_format_and_compute_as_go(make_app):
    result = run(make_app, "utc")
    assert result.code == 0, result
    assert result.lines == [
        "1735484645\t1735484645123456789\t2024-12-29 15:04:05.123456789 +0000 UTC",
        "Sun, 29 Dec 2024 15:04:05 UTC\t2024-12-29T15:04:05.123456789Z\t3:04PM\tDec 29 364",
        "2024\t12\t29\t15\t4\t5\t123456789\t0\t364",
        "2024\t12\t29",
        "15\t4\t5",
        "2024-12-29 16:04:05\t14:34:05",
        "2024-03-02",
        "2025-01-02 01:00:00",
        "10:00:00\t10:00:00\t10:30:00",
        "true\tfalse",
        "true\tfalse\ttrue",
        "2024-12-29T15:04:05Z\t1969-12-31T23:59:59.999999999Z",
    ], result


def test_zones_come_from_the_system_database(make_app):
    result = run(make_app, "zones", tz="America/New_York")
    assert result.code == 0, result
    assert result.lines[:8] == [
        "America/New_York\tnil",
        "12:00 EDT -0400\t16\tAmerica/New_York",
        "2024-01-15T12:00:00-05:00",
        "01:30 EST\t01:30 EDT",  # in the gap the offset before it, in the overlap the first
        "Thu, 04 Jul 2024 11:00:00 -0500\tEST",
        "2024-12-29T20:34:05+05:30",
        "nil\ttime.load_location: unknown time zone Nowhere/City",
        "nil\ttime.load_location: unknown time zone ../../etc/passwd",
    ], result
    assert result.lines[8:] == [
        "nil\tempty location name",
        "UTC\tAmerica/New_York\tUTC",
        "America/New_York\tEDT",
        "nil\ttime.load_location: unknown time zone America",
        "nil\ttime.load_location: unknown time zone Europe/\\x0aLondon",
    ], result


def test_local_time_follows_tz_as_go_reads_it(make_app):
    # TZ="" is UTC; a rule Go does not read (it loads names only) too
    for tz in ("", "EST5EDT,M3.2.0,M11.1.0", "No/Such_Zone"):
        result = run(make_app, "zones", tz=tz)
        assert result.code == 0 and result.lines[-4:-2] == ["UTC\tUTC\tUTC", "UTC\tUTC"], (tz, result)
    if os.path.exists("/etc/localtime"):
        machine = run(make_app, "zones", tz=None)
        assert machine.code == 0 and machine.lines[-3].startswith("Local\t"), machine


def test_parse_with_go_layouts_and_locations(make_app):
    result = run(make_app, "parse")
    assert result.code == 0, result
    assert result.lines == [
        "1735484645\t2024-12-29 15:04:05 +0000 UTC",
        "1735464845\t2024-12-29 15:04:05 +0530 +0530",
        "1735484645\tUTC",
        "2024-01-15T09:00:00-05:00",
        "2024-01-15T09:00:00-05:00\tAmerica/New_York",
        "2024-01-15 09:00:00 +0000 EST",
        'nil\ttime.parse: parsing time "2024-13-01": month out of range\tInvalid',
        'nil\ttime.parse: parsing time "24-01-01" as "2006-01-02": cannot parse "24-01-01" as "2006"',
    ], result


def test_times_and_zones_cross_heaps(make_app):
    for size in ("1", "2000"):
        result = run(make_app, "cross", size=size)
        assert (result.code, result.lines) == (0, ["12:00 EDT\tAmerica/New_York\t1m30s"]), (size, result)
