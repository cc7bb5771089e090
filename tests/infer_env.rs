//! `L2_KERNEL` forces the kernel for the whole process (its own test binary, since the choice is made
//! once per process).

use l2core::infer::{Kernel, Scorer};
use l2core::model::Mlp;

#[test]
fn l2_kernel_forces_the_scalar_path() {
    std::env::set_var("L2_KERNEL", "scalar");
    assert_eq!(Kernel::selected().unwrap(), Kernel::Scalar);
    let s = Scorer::new(&Mlp::init(16, &[8], 1).unwrap().to_layers()).unwrap();
    assert_eq!(s.kernel(), Kernel::Scalar);
}
