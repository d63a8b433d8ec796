//! What is written reads back equal, bit for bit.

use mfl_io::h5::{list_datasets, read_array, read_attr, OutputFile};
use ndarray::{array, Array2};

#[test]
fn appended_frames_and_attributes_read_back_equal() {
    let dir = std::env::temp_dir().join(format!("mfl-h5-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rt.h5");
    let mut f = OutputFile::create(&path, "solve", "[problem]\ntemperature = 0.1\n").unwrap();
    f.write_array("/grid/theta_0", array![0.5, 1.5, 2.5].into_dyn().view())
        .unwrap();
    let frames: Vec<Array2<f64>> = (0..5)
        .map(|s| Array2::from_shape_fn((3, 4), |(i, j)| (s * 100 + i * 10 + j) as f64 / 7.0))
        .collect();
    for (s, fr) in frames.iter().enumerate() {
        f.append_scalar("/time", s as f64 * 0.1).unwrap();
        f.append("/density", fr.view().into_dyn()).unwrap();
        f.append(
            "/diagnostics/mean",
            array![s as f64, -(s as f64)].into_dyn().view(),
        )
        .unwrap();
    }
    f.finish("complete").unwrap();
    drop(f);

    assert_eq!(read_attr(&path, "/", "status").unwrap(), "complete");
    assert_eq!(read_attr(&path, "/", "command").unwrap(), "solve");
    assert!(read_attr(&path, "/", "config")
        .unwrap()
        .contains("temperature = 0.1"));
    let d = read_array(&path, "/density").unwrap();
    assert_eq!(d.shape(), &[5, 3, 4]);
    for (s, fr) in frames.iter().enumerate() {
        assert_eq!(d.index_axis(ndarray::Axis(0), s), fr.view().into_dyn());
    }
    let t = read_array(&path, "/time").unwrap();
    assert_eq!(
        t.as_slice().unwrap(),
        &[0.0, 0.1, 0.2, 0.30000000000000004, 0.4]
    );
    assert_eq!(
        read_array(&path, "/diagnostics/mean").unwrap().shape(),
        &[5, 2]
    );
    let names: Vec<String> = list_datasets(&path)
        .unwrap()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        vec!["/density", "/diagnostics/mean", "/grid/theta_0", "/time"]
    );
}

/// Every dataset of a solve-like file has its dimensions attached (`DIMENSION_LIST`) or is a
/// dimension scale itself (`CLASS`), carries a `long_name`, and counts are integers.
#[test]
fn every_dataset_has_named_dimensions_and_integers_stay_integers() {
    let dir = std::env::temp_dir().join(format!("mfl-h5-dims-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dims.h5");
    let grid = mfl_core::Grid::new(vec![
        mfl_core::Axis::new(-1.0, 1.0, 4, mfl_core::Boundary::NoFlux).unwrap(),
        mfl_core::Axis::new(0.0, std::f64::consts::TAU, 3, mfl_core::Boundary::Periodic).unwrap(),
    ])
    .unwrap();
    let mut f = OutputFile::create(&path, "solve", "").unwrap();
    mfl_io::record::write_grid(&f, &grid).unwrap();
    for s in 0..3u64 {
        f.append("/density", Array2::<f64>::zeros((4, 3)).view().into_dyn())
            .unwrap();
        f.append_scalar("/time", s as f64).unwrap();
        f.append_scalar("/diagnostics/time", s as f64).unwrap();
        f.append_scalar("/diagnostics/step", 10 * s).unwrap();
        f.append("/diagnostics/cov", Array2::<f64>::eye(2).view().into_dyn())
            .unwrap();
    }
    f.finish("complete").unwrap();
    drop(f);
    let file = mfl_io::h5::open_read(&path).unwrap();
    for (name, _) in list_datasets(&path).unwrap() {
        let ds = file.dataset(&name).unwrap();
        let attrs = ds.attr_names().unwrap();
        let has = |a: &str| attrs.iter().any(|x| x == a);
        assert!(has("DIMENSION_LIST") || has("CLASS"), "{name}: {attrs:?}");
        assert!(has("long_name"), "{name}: {attrs:?}");
    }
    let step = file.dataset("/diagnostics/step").unwrap();
    assert_eq!(step.read_1d::<u64>().unwrap().to_vec(), vec![0, 10, 20]);
    assert!(step.dtype().unwrap().is::<u64>());
    assert!(ds_is_scale(&file, "/diagnostics/time"));
    // read as f64 by the existing readers
    assert_eq!(
        read_array(&path, "/diagnostics/step").unwrap().as_slice(),
        Some(&[0.0, 10.0, 20.0][..])
    );
}

fn ds_is_scale(f: &hdf5::File, name: &str) -> bool {
    let ds = f.dataset(name).unwrap();
    ds.attr_names().unwrap().iter().any(|a| a == "CLASS")
}
