//! The social city's layout and its people: districts on a grid with their
//! venues, offices, households, jobs, friend groups and relatives.

use super::super::mobility::{Point, in_disc, in_rect};
use super::super::rng::SimRng;

/// Square metres per person: the area grows with the people, so density
/// stays the same (2,000 people on 2 × 2 km).
const AREA_PER_PERSON: f64 = 2000.0;
/// Districts are about this wide.
const DISTRICT_M: f64 = 500.0;
/// Workers per office, on average.
const OFFICE_SIZE: f64 = 12.0;
/// Share of workers whose office is in their own district, if it has one.
const WORK_AT_HOME_DISTRICT: f64 = 0.25;
/// Share of adults with a job; the others (retired, unemployed) stay near
/// home.
const EMPLOYED: f64 = 0.72;
/// Household sizes 1–5 and their weights (many singles and couples).
const HOUSEHOLD_WEIGHTS: [f64; 5] = [0.28, 0.34, 0.16, 0.15, 0.07];

/// One district: a square of the grid with its meeting places.
#[derive(Debug, Clone)]
pub(super) struct District {
    /// The corner with the smallest coordinates.
    pub origin: Point,
    /// The transit interchange, where this district's stops are.
    pub centre: Point,
    /// The square (also where a powered district's gateway stands).
    pub square: Point,
    /// Cafés for lunch and errands.
    pub cafes: Vec<Point>,
    /// Bars where friends meet in the evening.
    pub bars: Vec<Point>,
    /// The district school.
    pub school: Point,
}

/// An office: where its workers' desks are.
#[derive(Debug, Clone)]
pub(super) struct Office {
    /// The middle of the office floor.
    pub centre: Point,
    /// The district it is in.
    pub district: usize,
    /// Desks spread over a disc this wide, growing with the staff.
    pub radius: f64,
}

/// The city's layout: `k × k` districts of side `side`.
#[derive(Debug, Clone)]
pub(super) struct City {
    /// Districts per side of the grid.
    pub k: usize,
    /// Side of a district, metres.
    pub side: f64,
    /// Row by row, from the south-west corner.
    pub districts: Vec<District>,
    /// Filled in by [`society`], once the workers are known.
    pub offices: Vec<Office>,
}

impl City {
    /// The district holding `p` (clamped to the grid).
    pub fn district_at(&self, p: Point) -> usize {
        let cell = |v: f64| ((v / self.side).floor().max(0.0) as usize).min(self.k - 1);
        cell(p.y) * self.k + cell(p.x)
    }

    /// `(row, column)` of district `d`.
    pub fn cell(&self, d: usize) -> (usize, usize) {
        (d / self.k, d % self.k)
    }
}

/// What a person does by day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Occupation {
    /// Works at `offices[office]`.
    Worker { office: usize },
    /// Goes to the school of district `school`.
    Student { school: usize },
    /// Retired or out of work: stays around home.
    AtHome,
}

/// One person's fixed facts.
#[derive(Debug, Clone)]
pub(super) struct Person {
    /// Index into [`Society::households`].
    pub household: usize,
    /// Where this person sleeps (a few metres from housemates).
    pub home: Point,
    /// The home's district.
    pub district: usize,
    /// What the days are for.
    pub job: Occupation,
    /// Where this person sits at work or school, every day.
    pub desk: Point,
    /// Usual start of the working day, hours.
    pub start_h: f64,
    /// Walking speed, m/s.
    pub speed: f64,
    /// Index into [`Society::friends`].
    pub friends: Option<usize>,
}

/// A household: one home, 1–5 members.
#[derive(Debug, Clone)]
pub(super) struct Household {
    /// The home's middle.
    pub home: Point,
    /// Person ids, ascending.
    pub members: Vec<u32>,
    /// The household of the relatives this one visits and writes to (itself
    /// if it has none).
    pub relatives: usize,
}

/// Friends who meet regularly at `venue`.
#[derive(Debug, Clone)]
pub(super) struct FriendGroup {
    /// Person ids, ascending.
    pub members: Vec<u32>,
    /// Their regular bar.
    pub venue: Point,
}

/// Everyone and their ties.
#[derive(Debug, Clone)]
pub(super) struct Society {
    /// Indexed by person id.
    pub people: Vec<Person>,
    /// Each person is in exactly one.
    pub households: Vec<Household>,
    /// Each adult is in exactly one; pupils in none.
    pub friends: Vec<FriendGroup>,
}

impl Society {
    /// The members of each office, ascending.
    pub fn staff(&self, offices: usize) -> Vec<Vec<u32>> {
        let mut staff = vec![Vec::new(); offices];
        for (id, p) in self.people.iter().enumerate() {
            if let Occupation::Worker { office } = p.job {
                staff[office].push(id as u32);
            }
        }
        staff
    }

    /// The pupils of each district's school, ascending.
    pub fn pupils(&self, districts: usize) -> Vec<Vec<u32>> {
        let mut pupils = vec![Vec::new(); districts];
        for (id, p) in self.people.iter().enumerate() {
            if let Occupation::Student { school } = p.job {
                pupils[school].push(id as u32);
            }
        }
        pupils
    }
}

/// The districts for `people` and their venues (offices come later, once
/// the workers are known).
pub(super) fn city(rng: &mut SimRng, people: u32) -> City {
    let area_side = (f64::from(people) * AREA_PER_PERSON).sqrt();
    let k = ((area_side / DISTRICT_M).round() as usize).max(1);
    let side = area_side / k as f64;
    let districts = (0..k * k)
        .map(|d| {
            let origin = Point::new((d % k) as f64 * side, (d / k) as f64 * side);
            let centre = origin.offset(side / 2.0, side / 2.0);
            // Venues keep away from the district's edges so that a district
            // stays a place of its own.
            let inner = |rng: &mut SimRng| {
                in_rect(
                    rng,
                    origin.x + 0.15 * side,
                    origin.y + 0.15 * side,
                    origin.x + 0.85 * side,
                    origin.y + 0.85 * side,
                )
            };
            District {
                origin,
                centre,
                square: in_disc(rng, centre, 0.15 * side).offset(0.1 * side, 0.0),
                cafes: (0..3).map(|_| inner(rng)).collect(),
                bars: (0..2).map(|_| inner(rng)).collect(),
                school: inner(rng),
            }
        })
        .collect();
    City {
        k,
        side,
        districts,
        offices: Vec::new(),
    }
}

/// Households (round robin over the districts, so every district is lived
/// in), their members' occupations, offices for the workers, and friend
/// groups. Adds the offices to `city`.
pub(super) fn society(
    layout: &mut SimRng,
    social: &mut SimRng,
    city: &mut City,
    people: u32,
) -> Society {
    let n_districts = city.districts.len();
    let mut households = Vec::new();
    let mut persons: Vec<Person> = Vec::with_capacity(people as usize);
    while (persons.len() as u32) < people {
        let size =
            (1 + layout.weighted(&HOUSEHOLD_WEIGHTS) as u32).min(people - persons.len() as u32);
        let district = households.len() % n_districts;
        let d = &city.districts[district];
        let home = in_rect(
            layout,
            d.origin.x,
            d.origin.y,
            d.origin.x + city.side,
            d.origin.y + city.side,
        );
        let first = persons.len() as u32;
        for k in 0..size {
            // The first two are adults; later ones mostly children.
            let job = if k >= 2 && layout.chance(0.8) {
                Occupation::Student { school: district }
            } else if layout.chance(EMPLOYED) {
                Occupation::Worker { office: 0 }
            } else {
                Occupation::AtHome
            };
            persons.push(Person {
                household: households.len(),
                home: in_disc(layout, home, 3.0),
                district,
                job,
                desk: home,
                start_h: (layout.normal(8.5, 0.4)).clamp(7.0, 10.0),
                speed: layout.range(0.9, 1.5),
                friends: None,
            });
        }
        households.push(Household {
            home,
            members: (first..first + size).collect(),
            relatives: households.len(),
        });
    }
    place_work(layout, city, &mut persons);
    let friends = friend_groups(social, city, &mut persons);
    relatives(social, &mut households);
    Society {
        people: persons,
        households,
        friends,
    }
}

/// Opens offices for the workers (spread over all districts) and gives
/// every worker and pupil a desk.
fn place_work(rng: &mut SimRng, city: &mut City, persons: &mut [Person]) {
    let workers = persons
        .iter()
        .filter(|p| matches!(p.job, Occupation::Worker { .. }))
        .count();
    let n = ((workers as f64 / OFFICE_SIZE).round() as usize).max(1);
    let n_districts = city.districts.len();
    let mut in_district: Vec<Vec<usize>> = vec![Vec::new(); n_districts];
    let mut sites = Vec::with_capacity(n);
    for o in 0..n {
        let district = rng.below(n_districts);
        let d = &city.districts[district];
        let centre = in_rect(
            rng,
            d.origin.x + 0.1 * city.side,
            d.origin.y + 0.1 * city.side,
            d.origin.x + 0.9 * city.side,
            d.origin.y + 0.9 * city.side,
        );
        in_district[district].push(o);
        sites.push((centre, district));
    }
    let mut staff = vec![0usize; n];
    for p in persons.iter_mut() {
        if let Occupation::Worker { office } = &mut p.job {
            let local = &in_district[p.district];
            *office =
                if !local.is_empty() && (rng.chance(WORK_AT_HOME_DISTRICT) || local.len() == n) {
                    *rng.pick(local)
                } else {
                    // Most work in another district.
                    loop {
                        let o = rng.below(n);
                        if sites[o].1 != p.district {
                            break o;
                        }
                    }
                };
            staff[*office] += 1;
        }
    }
    city.offices = sites
        .iter()
        .zip(&staff)
        .map(|(&(centre, district), &s)| Office {
            centre,
            district,
            // Desks about 4 m apart: a large office is not all in range.
            radius: 3.0 * (s.max(1) as f64).sqrt(),
        })
        .collect();
    for p in persons.iter_mut() {
        p.desk = match p.job {
            Occupation::Worker { office } => in_disc(
                rng,
                city.offices[office].centre,
                city.offices[office].radius,
            ),
            Occupation::Student { school } => in_disc(rng, city.districts[school].school, 25.0),
            Occupation::AtHome => p.home,
        };
    }
}

/// Friend groups of 3–6 adults: half of the workers befriend co-workers
/// and meet at a bar near work, everyone else befriends neighbours and
/// meets at a bar in their district.
fn friend_groups(rng: &mut SimRng, city: &City, persons: &mut [Person]) -> Vec<FriendGroup> {
    let mut adults: Vec<u32> = (0..persons.len() as u32)
        .filter(|&id| !matches!(persons[id as usize].job, Occupation::Student { .. }))
        .collect();
    rng.shuffle(&mut adults);
    let mut work = Vec::new();
    let mut near = Vec::new();
    for (rank, id) in adults.into_iter().enumerate() {
        match persons[id as usize].job {
            Occupation::Worker { office } if rng.chance(0.5) => work.push((office, rank, id)),
            _ => near.push((persons[id as usize].district, rank, id)),
        }
    }
    // Sorting by office (or district), ties in shuffled order, and cutting
    // the list into runs makes groups of colleagues (or neighbours).
    work.sort_unstable();
    near.sort_unstable();
    let mut groups = Vec::new();
    for (pool, at_work) in [(work, true), (near, false)] {
        let mut next = 0;
        while next < pool.len() {
            let size = 3 + rng.below(4);
            let end = (next + size).min(pool.len());
            let members: Vec<u32> = pool[next..end].iter().map(|x| x.2).collect();
            let first = &persons[members[0] as usize];
            let district = match first.job {
                Occupation::Worker { office } if at_work => city.offices[office].district,
                _ => first.district,
            };
            let venue = *rng.pick(&city.districts[district].bars);
            for &m in &members {
                persons[m as usize].friends = Some(groups.len());
            }
            let mut members = members;
            members.sort_unstable();
            groups.push(FriendGroup { members, venue });
            next = end;
        }
    }
    groups
}

/// Pairs households at random, anywhere in the city, as relatives.
fn relatives(rng: &mut SimRng, households: &mut [Household]) {
    let mut order: Vec<usize> = (0..households.len()).collect();
    rng.shuffle(&mut order);
    for pair in order.chunks_exact(2) {
        households[pair[0]].relatives = pair[1];
        households[pair[1]].relatives = pair[0];
    }
}
