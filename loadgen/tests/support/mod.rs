pub mod bird;
