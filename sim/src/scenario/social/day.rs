//! Working days, in the spirit of the Working Day Movement model (Ekman et
//! al. 2008): nights at home, a commute to the same desk every day, lunch
//! near work, and some evenings with the same friends at the same bar.

use super::super::mobility::{Path, PathBuilder, Point, in_disc};
use super::super::rng::SimRng;
use super::places::{City, Occupation, Person, Society};
use super::transit::{WALK_M, travel};

pub(super) const DAY: f64 = 86_400.0;
const HOUR: f64 = 3600.0;
/// Chance that a friend group meets on a given evening, and that a member
/// comes along when it does.
const MEET: f64 = 0.5;
const ATTEND: f64 = 0.85;
/// Chance of an evening at the relatives' on a day without friends.
const VISIT: f64 = 0.08;

/// Chance that someone at home, or a worker on the way home, goes to
/// charge the phone at the nearest powered square that day.
const CHARGE_AT_HOME: f64 = 0.35;
const CHARGE_AFTER_WORK: f64 = 0.15;

/// When each friend group meets: `[group][day]`, `(from, to)` seconds.
pub(super) type Meetings = Vec<Vec<Option<(f64, f64)>>>;

/// The powered squares and when each has power.
pub(super) type Blackout = [(Point, Vec<(f64, f64)>)];

/// What a routine needs to know about the city besides its own person.
pub(super) struct World<'a> {
    /// Homes, desks, friends and relatives.
    pub society: &'a Society,
    /// Where everything is.
    pub city: &'a City,
    /// When friend groups meet.
    pub meetings: &'a Meetings,
    /// Where and when there is power.
    pub blackout: &'a Blackout,
}

/// Days begun within `duration` (time 0 is midnight).
pub(super) fn days(duration: f64) -> usize {
    (duration / DAY).ceil() as usize
}

/// Draws which evenings each of `groups` friend groups meets, and when.
pub(super) fn meetings(rng: &mut SimRng, groups: usize, duration: f64) -> Meetings {
    (0..groups)
        .map(|_| {
            (0..days(duration))
                .map(|d| {
                    rng.chance(MEET).then(|| {
                        let from = d as f64 * DAY + 19.0 * HOUR + rng.normal(0.0, 1800.0);
                        (from, from + rng.range(1.5, 3.0) * HOUR)
                    })
                })
                .collect()
        })
        .collect()
}

/// One person's days until `duration`.
pub(super) fn routine(rng: &mut SimRng, me: &Person, world: &World, duration: f64) -> Path {
    let city = world.city;
    let mut b = PathBuilder::start(0.0, me.home);
    for d in 0..days(duration) {
        let day = d as f64 * DAY;
        let at = |rng: &mut SimRng, hour: f64, sd_min: f64| {
            day + hour * HOUR + rng.normal(0.0, sd_min * 60.0)
        };
        match me.job {
            Occupation::Worker { office } => {
                let start = at(rng, me.start_h, 10.0);
                commute(rng, &mut b, city, me, start);
                b.stay_until(at(rng, 12.5, 20.0));
                if rng.chance(0.6) {
                    let district = &city.districts[city.offices[office].district];
                    let cafe = *rng.pick(&district.cafes);
                    let cafe = in_disc(rng, cafe, 8.0);
                    travel(rng, &mut b, city, cafe, me.speed);
                    let done = b.now() + rng.range(25.0, 50.0) * 60.0;
                    b.stay_until(done);
                    travel(rng, &mut b, city, me.desk, me.speed);
                }
                b.stay_until(at(rng, me.start_h + 8.5, 15.0));
                if rng.chance(CHARGE_AFTER_WORK) {
                    let now = b.now();
                    charge(
                        rng,
                        &mut b,
                        city,
                        me,
                        world.blackout,
                        (now, now + 2.0 * HOUR),
                    );
                }
                travel(rng, &mut b, city, me.home, me.speed);
            }
            Occupation::Student { school } => {
                let start = at(rng, 8.0, 5.0);
                commute(rng, &mut b, city, me, start);
                b.stay_until(at(rng, 15.0, 5.0));
                if rng.chance(0.4) {
                    let square = in_disc(rng, city.districts[school].square, 20.0);
                    travel(rng, &mut b, city, square, me.speed);
                    b.stay_until(at(rng, 17.5, 20.0));
                }
                travel(rng, &mut b, city, me.home, me.speed);
            }
            Occupation::AtHome => {
                let district = &city.districts[me.district];
                if rng.chance(0.5) {
                    b.stay_until(day + rng.range(9.0, 11.0) * HOUR);
                    let place = if rng.chance(0.6) {
                        let cafe = *rng.pick(&district.cafes);
                        in_disc(rng, cafe, 8.0)
                    } else {
                        in_disc(rng, district.square, 20.0)
                    };
                    outing(rng, &mut b, city, me, place, (30.0, 90.0));
                }
                if rng.chance(CHARGE_AT_HOME) {
                    let (after, before) = (day + 8.0 * HOUR, day + 20.0 * HOUR);
                    charge(rng, &mut b, city, me, world.blackout, (after, before));
                    travel(rng, &mut b, city, me.home, me.speed);
                }
                if rng.chance(0.3) {
                    b.stay_until(day + rng.range(15.0, 17.0) * HOUR);
                    let square = in_disc(rng, district.square, 20.0);
                    outing(rng, &mut b, city, me, square, (30.0, 60.0));
                }
            }
        }
        if !matches!(me.job, Occupation::Student { .. }) {
            evening(rng, &mut b, me, world, d);
        }
    }
    b.build()
}

/// Sets off from home so as to reach the desk near `start`.
fn commute(rng: &mut SimRng, b: &mut PathBuilder, city: &City, me: &Person, start: f64) {
    let dist = me.home.dist(me.desk);
    // A rough guess of the trip, as people make one: the wait for a
    // vehicle and the walks to stops cost about ten minutes.
    let guess = if dist < WALK_M {
        dist / me.speed
    } else {
        dist / 5.0 + 600.0
    };
    b.stay_until(start - guess);
    travel(rng, b, city, me.desk, me.speed);
}

/// Goes to the powered square nearest home while it has power, if it has
/// power for half an hour or more between `after` and `before`, to
/// charge the phone for half an hour to an hour: in a blackout, word of
/// where there is power spreads. Stays where it is otherwise.
fn charge(
    rng: &mut SimRng,
    b: &mut PathBuilder,
    city: &City,
    me: &Person,
    blackout: &Blackout,
    (after, before): (f64, f64),
) {
    let nearest = blackout
        .iter()
        .min_by(|x, y| x.0.dist(me.home).total_cmp(&y.0.dist(me.home)));
    let Some((square, windows)) = nearest else {
        return;
    };
    let after = after.max(b.now());
    let Some(&(on, off)) = windows
        .iter()
        .find(|&&(on, off)| off.min(before) > on.max(after) + 1800.0)
    else {
        return;
    };
    let spot = in_disc(rng, *square, 12.0);
    let guess = b.here().dist(spot) / 4.0;
    b.stay_until(on.max(after) - guess + rng.range(0.0, 1800.0));
    travel(rng, b, city, spot, me.speed);
    let done = b.now() + rng.range(30.0, 60.0) * 60.0;
    b.stay_until(done.min(off));
}

/// Goes to `place`, stays `minutes` (a range), comes home.
fn outing(
    rng: &mut SimRng,
    b: &mut PathBuilder,
    city: &City,
    me: &Person,
    place: Point,
    minutes: (f64, f64),
) {
    travel(rng, b, city, place, me.speed);
    let done = b.now() + rng.range(minutes.0, minutes.1) * 60.0;
    b.stay_until(done);
    travel(rng, b, city, me.home, me.speed);
}

/// The evening of day `d`: out with friends if the group meets, now and
/// then at the relatives', otherwise at home.
fn evening(rng: &mut SimRng, b: &mut PathBuilder, me: &Person, world: &World, d: usize) {
    let (society, city) = (world.society, world.city);
    let day = d as f64 * DAY;
    let meeting = me.friends.and_then(|g| Some((g, world.meetings[g][d]?)));
    if let Some((g, (from, to))) = meeting
        && rng.chance(ATTEND)
    {
        let venue = in_disc(rng, society.friends[g].venue, 5.0);
        b.stay_until(from - 15.0 * 60.0 + rng.normal(0.0, 600.0));
        travel(rng, b, city, venue, me.speed);
        b.stay_until(to + rng.normal(0.0, 900.0));
        travel(rng, b, city, me.home, me.speed);
        return;
    }
    let relatives = society.households[me.household].relatives;
    if relatives != me.household && rng.chance(VISIT) {
        let home = in_disc(rng, society.households[relatives].home, 4.0);
        b.stay_until(day + 18.75 * HOUR + rng.normal(0.0, 1200.0));
        travel(rng, b, city, home, me.speed);
        b.stay_until(day + 21.25 * HOUR + rng.normal(0.0, 1200.0));
        travel(rng, b, city, me.home, me.speed);
    }
}
