//! A seeded simulation of learners on a catalogue shaped like the repository's demo one
//! (`data/demo/catalog.jsonl`: bilingual lectures in courses), so that the pipeline has real
//! signal to learn. The catalogue itself is a data file, not part of the library.

use std::collections::BTreeMap;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::events::Event;

/// Settings of the learner simulation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DemoLearners {
    /// Number of learners.
    pub learners: usize,
    /// Events per learner are drawn uniformly from this range (inclusive).
    pub events: (usize, usize),
    /// Probability of taking the next lesson of the current course.
    pub follow_course: f64,
    /// Share of items that are "new": published after the log, so no learner has seen them.
    pub new_items: f64,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Default for DemoLearners {
    fn default() -> Self {
        Self {
            learners: 800,
            events: (6, 30),
            follow_course: 0.75,
            new_items: 0.05,
            seed: 42,
        }
    }
}

/// A simulated event log and which items were held back as new.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoEvents {
    /// Events in time order per learner.
    pub events: Vec<Event>,
    /// Ids of the items no learner saw (new lectures).
    pub new_items: Vec<String>,
}

struct Course {
    subject: String,
    level: usize,
    /// Catalogue positions in lesson order.
    lessons: Vec<usize>,
}

fn level_rank(level: &str) -> usize {
    match level {
        "beginner" => 0,
        "intermediate" => 1,
        _ => 2,
    }
}

/// Simulates learners on a catalogue shaped like the demo one (items with `course`, `lesson`,
/// `level` extra fields and a `category`; items without them form one course per category).
/// Each learner has a favourite subject and a second one, starts at a level, mostly follows
/// courses lesson by lesson, moves up a level after a course, and now and then switches to
/// the second subject or a random lecture.
pub fn simulate_learners(catalog: &Catalog, settings: &DemoLearners) -> DemoEvents {
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let items = catalog.items();
    let mut new: Vec<bool> = items
        .iter()
        .map(|_| rng.gen_bool(settings.new_items.clamp(0.0, 1.0)))
        .collect();
    if new.iter().all(|&n| n) {
        new.iter_mut().for_each(|n| *n = false);
    }
    let mut by_course: BTreeMap<String, Vec<(i64, usize)>> = BTreeMap::new();
    for (pos, it) in items.iter().enumerate() {
        let subject = it.category.clone().unwrap_or_default();
        let course = it
            .extra
            .get("course")
            .and_then(|v| v.as_str())
            .map_or_else(|| subject.clone(), str::to_string);
        let lesson = it
            .extra
            .get("lesson")
            .and_then(|v| v.as_i64())
            .unwrap_or(pos as i64);
        by_course.entry(course).or_default().push((lesson, pos));
    }
    let courses: Vec<Course> = by_course
        .into_values()
        .map(|mut lessons| {
            lessons.sort();
            let first = &items[lessons[0].1];
            let level = first
                .extra
                .get("level")
                .and_then(|v| v.as_str())
                .map_or(0, level_rank);
            Course {
                subject: first.category.clone().unwrap_or_default(),
                level,
                lessons: lessons.into_iter().map(|(_, p)| p).collect(),
            }
        })
        .collect();
    let mut subjects: Vec<String> = courses.iter().map(|c| c.subject.clone()).collect();
    subjects.sort();
    subjects.dedup();
    let course_of = |subject: &str, level: usize| {
        courses
            .iter()
            .position(|c| c.subject == subject && c.level == level)
            .or_else(|| courses.iter().position(|c| c.subject == subject))
            .unwrap_or(0)
    };
    let mut events = Vec::new();
    let base = 1_767_225_600; // 2026-01-01
    for learner in 0..settings.learners {
        let user = format!("learner{learner:04}");
        let favourite = subjects.choose(&mut rng).cloned().unwrap_or_default();
        let second = subjects.choose(&mut rng).cloned().unwrap_or_default();
        let start_level = *[0usize, 0, 0, 1, 1, 2].choose(&mut rng).unwrap_or(&0);
        let mut course = course_of(&favourite, start_level);
        let mut lesson = if rng.gen_bool(0.7) {
            0
        } else {
            rng.gen_range(0..courses[course].lessons.len())
        };
        let mut t = base + rng.gen_range(0..120) * 86_400;
        let n = rng.gen_range(settings.events.0..=settings.events.1.max(settings.events.0));
        let mut taken = 0;
        let mut guard = 0;
        while taken < n && guard < 20 * n {
            guard += 1;
            let pos = courses[course].lessons[lesson];
            if !new[pos] {
                let kind = if rng.gen_bool(0.6) {
                    "complete"
                } else {
                    "view"
                };
                events.push(Event {
                    user: user.clone(),
                    item: items[pos].id.clone(),
                    timestamp: t,
                    event_type: Some(kind.to_string()),
                });
                taken += 1;
                t += rng.gen_range(3_600..4 * 86_400);
            }
            let r: f64 = rng.gen();
            if r < settings.follow_course && lesson + 1 < courses[course].lessons.len() {
                lesson += 1;
            } else if lesson + 1 >= courses[course].lessons.len() && r < 0.85 {
                // Course finished: the next level of the same subject.
                let c = &courses[course];
                course = course_of(&c.subject.clone(), (c.level + 1).min(2));
                lesson = 0;
            } else if r < 0.95 {
                let subject = if rng.gen_bool(0.6) {
                    &second
                } else {
                    &favourite
                };
                course = course_of(subject, start_level);
                lesson = rng.gen_range(0..courses[course].lessons.len());
            } else {
                course = rng.gen_range(0..courses.len());
                lesson = rng.gen_range(0..courses[course].lessons.len());
            }
        }
    }
    let new_items = items
        .iter()
        .zip(&new)
        .filter(|(_, &n)| n)
        .map(|(it, _)| it.id.clone())
        .collect();
    DemoEvents { events, new_items }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository's demo catalogue (`data/demo/catalog.jsonl`, which
    /// `scripts/make_demo_catalog.py` generates).
    pub(crate) fn demo_catalog() -> (Catalog, crate::DataReport) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/demo/catalog.jsonl");
        let f = std::fs::File::open(path).expect("the demo catalogue is in the repository");
        Catalog::read_jsonl(std::io::BufReader::new(f)).expect("it is valid")
    }

    #[test]
    fn the_demo_catalogue_is_bilingual_and_complete() {
        let (c, r) = demo_catalog();
        assert_eq!((c.len(), r.dropped.len()), (288, 0));
        let hangul = |s: &str| s.chars().any(|ch| ('\u{AC00}'..='\u{D7A3}').contains(&ch));
        let ko = c.items().iter().filter(|i| hangul(&i.title)).count();
        assert!(ko > 100 && ko < 250, "{ko} Korean titles");
    }

    #[test]
    fn simulation_is_seeded_and_skips_new_items() {
        let (c, _) = demo_catalog();
        let s = DemoLearners {
            learners: 50,
            ..Default::default()
        };
        let a = simulate_learners(&c, &s);
        assert_eq!(a, simulate_learners(&c, &s));
        assert_ne!(a, simulate_learners(&c, &DemoLearners { seed: 1, ..s }));
        assert!(!a.new_items.is_empty());
        assert!(a.events.iter().all(|e| !a.new_items.contains(&e.item)));
        // Learners mostly follow their course: consecutive events in the same course.
        let course = |id: &str| c.get(id).and_then(|i| i.extra.get("course").cloned());
        let same = a
            .events
            .windows(2)
            .filter(|w| w[0].user == w[1].user && course(&w[0].item) == course(&w[1].item))
            .count();
        let pairs = a
            .events
            .windows(2)
            .filter(|w| w[0].user == w[1].user)
            .count();
        assert!(same as f64 > 0.6 * pairs as f64, "{same} of {pairs}");
    }
}
